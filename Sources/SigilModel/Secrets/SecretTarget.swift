/// Who holds a secret.
public enum SecretOwner: Sendable, Hashable, CustomStringConvertible {
    /// A principal's own secret (a named principal's API key, a client secret).
    case principal(PrincipalRef)
    /// One user's authorization of a per-user principal (their password, their tokens).
    case authorization(PrincipalRef, user: String)
    /// A named credential's secret (its client identity's private key).
    case namedCredential(String)

    /// `EC/PRINCIPAL` (with `user`, that user's authorization of it) or `named-credential:NAME`, as
    /// `sigil secret set` and the service's `/v1/secrets` take them; `nil` for anything else.
    public init?(parsing text: String, user: String? = nil) {
        if text.hasPrefix("named-credential:") {
            let name = String(text.dropFirst("named-credential:".count))
            guard user == nil, !name.isEmpty else { return nil }
            self = .namedCredential(name)
            return
        }
        guard let reference = PrincipalRef(parsing: text) else { return nil }
        self = user.map { .authorization(reference, user: $0) } ?? .principal(reference)
    }

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
