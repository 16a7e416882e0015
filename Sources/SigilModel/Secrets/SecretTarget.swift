/// Who holds a secret.
public enum SecretOwner: Sendable, Hashable, CustomStringConvertible {
    /// A principal's own secret (a named principal's API key, a client secret).
    case principal(PrincipalRef)
    /// One user's authorization of a per-user principal (their password, their tokens).
    case authorization(PrincipalRef, user: String)
    /// A named credential's secret (its client identity's private key).
    case namedCredential(String)

    public var description: String {
        switch self {
        case .principal(let principal): "principal \(principal)"
        case .authorization(let principal, let user): "principal \(principal) for user \(user)"
        case .namedCredential(let name): "named credential \(name)"
        }
    }
}

/// One secret field of one owner: `apiKey` of principal `Billing/billing-org`.
public struct SecretTarget: Sendable, Hashable, CustomStringConvertible {
    public var owner: SecretOwner
    public var field: String

    public init(owner: SecretOwner, field: String) {
        self.owner = owner
        self.field = field
    }

    public var description: String { "secret \(field) of \(owner)" }
}

/// The stages a secret version can be in, as in AWS Secrets Manager: `current` is what requests
/// use; `pending` is a new value being rolled out; `previous` is the value `current` replaced,
/// kept so a rotation can be rolled back. Each stage labels at most one version; a version that
/// loses its last stage is deleted.
public enum SecretStage: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case current
    case pending
    case previous

    public var description: String { rawValue }
}
