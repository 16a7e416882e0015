public import Foundation
import SigilModel
import SigilSigning
public import SigilStore

/// `sigil auth status` and the service's `GET /v1/auth/status`: per principal (and, for a per-user
/// principal, per user) of every credential obtained from a provider, its state, expiry, last
/// refresh and last error. Never a value.
public struct IssuedCredentialState: Encodable, Sendable, Hashable {
    public var principal: String
    public var user: String?
    public var kind: String
    /// `configured` (nothing obtained yet), `current`, `expired` (renewed on next use),
    /// `needs-reauthorization`, or `not authorized` (a per-user principal the user has not authorized).
    public var state: String
    public var expiresAt: String?
    /// When the refresh token expires, when the provider said: the user must authorize again by then.
    public var refreshExpiresAt: String?
    public var lastRefresh: String?
    public var lastError: String?

    /// Every state in `vault` as of `now`; with `user`, only that user's authorizations (and the
    /// named principals, which have no user).
    public static func all(in vault: Vault, at now: Date = Date(), user only: String? = nil) throws
        -> [IssuedCredentialState]
    {
        let catalog = try vault.catalog()
        let issued = Dictionary(
            try vault.issuedCredentialStatuses().map { ("\($0.principal)|\($0.user ?? "")", $0) },
            uniquingKeysWith: { first, _ in first })
        let authorizations = try vault.authorizations()
        let seconds = Int64(now.timeIntervalSince1970)
        func format(_ seconds: Int64?) -> String? {
            seconds.map { Date(timeIntervalSince1970: TimeInterval($0)).formatted(.iso8601) }
        }
        var rows: [IssuedCredentialState] = []
        for external in catalog.externalCredentials {
            for principal in external.principals.sorted(by: { $0.sequence < $1.sequence }) {
                guard let kind = try? IssuanceRequest.kind(of: external, principal: principal) else { continue }
                let reference = "\(external.name)/\(principal.name)"
                var users: [String?] =
                    principal.type == .perUser
                    ? authorizations.filter { $0.principal == reference }.map(\.user) : [nil]
                if let only { users = users.filter { $0 == nil || $0 == only } }
                for user in users {
                    let status = issued["\(reference)|\(user ?? "")"]
                    let authorization = user.flatMap { user in
                        authorizations.first { $0.principal == reference && $0.user == user }
                    }
                    var state = "configured"
                    if authorization?.status == "needs-reauthorization" {
                        state = "needs-reauthorization"
                    } else if let status, status.obtainedAt != nil, status.hasValue {
                        state = (status.expiresAt.map { $0 <= seconds } ?? false) ? "expired" : "current"
                    } else if user != nil {
                        state = "not authorized"
                    }
                    rows.append(
                        IssuedCredentialState(
                            principal: reference, user: user, kind: kind.rawValue, state: state,
                            expiresAt: status?.hasValue == true ? format(status?.expiresAt) : nil,
                            refreshExpiresAt: status?.hasValue == true ? format(status?.refreshExpiresAt) : nil,
                            lastRefresh: status?.obtainedAt, lastError: status?.lastError))
                }
            }
        }
        return rows
    }
}
