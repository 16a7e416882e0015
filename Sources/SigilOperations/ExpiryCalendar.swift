public import Foundation
import SigilModel
public import SigilStore

/// What expires or falls due, soonest first: client certificates, secrets against their rotation
/// age (their policy's `every`, else ``defaultRotationAgeDays``), issued credentials with a known
/// lifetime (STS credentials, refresh tokens whose provider states one), and authorizations that
/// need their user again. `sigil expiry` prints it, the
/// operators' `/expiry` page shows it.
public enum ExpiryCalendar {
    /// The rotation age of a secret without a policy.
    public static let defaultRotationAgeDays = 90

    public struct Entry: Encodable, Sendable, Hashable {
        /// When (ISO 8601).
        public var when: String
        /// `client certificate`, `secret rotation`, `issued credential`, `authorization`.
        public var what: String
        public var item: String
        /// One line for people, with the CLI's wording for certificates.
        public var warning: String
        /// `expired` (now or past) or `soon` (within the window).
        public var urgency: String
    }

    /// The entries due by `now` plus `within` seconds (past ones included), soonest first.
    public static func entries(in vault: Vault, within: TimeInterval, now: Date = Date()) throws -> [Entry] {
        let horizon = now.addingTimeInterval(within)
        let view = try CatalogView(vault: vault, warningDays: max(1, Int((within / 86_400).rounded(.up))), now: now)
        let catalog = try vault.catalog()
        var rows: [(Date, Entry)] = []
        func add(_ date: Date, what: String, item: String, warning: String) {
            guard date <= horizon else { return }
            rows.append(
                (
                    date,
                    Entry(
                        when: date.formatted(.iso8601), what: what, item: item, warning: warning,
                        urgency: date <= now ? "expired" : "soon")
                ))
        }
        for credential in view.namedCredentials {
            guard let identity = credential.clientIdentity else { continue }
            guard let text = identity.notAfter, let notAfter = try? Date(text, strategy: .iso8601) else {
                add(
                    now, what: "client certificate", item: credential.name, warning: identity.warning ?? identity.status
                )
                continue
            }
            add(
                notAfter, what: "client certificate", item: credential.name,
                warning: identity.warning ?? "client certificate valid until \(text)")
        }
        func secrets(_ statuses: [SecretStatus], of owner: String, policy: RotationPolicy?) {
            let age = policy?.every ?? defaultRotationAgeDays * 86_400
            let ageText = RotationPolicy.duration(age)
            let by = policy == nil ? "" : " (its policy)"
            for status in statuses where policy?.field == nil || policy?.field == status.field {
                guard let current = status.current, let created = try? Date(current.createdAt, strategy: .iso8601)
                else { continue }
                let due = created.addingTimeInterval(TimeInterval(age))
                let days = Int(now.timeIntervalSince(created) / 86_400)
                add(
                    due, what: "secret rotation", item: "\(owner) \(status.field)",
                    warning: due <= now
                        ? "past its rotation age of \(ageText)\(by): \(days) days old"
                        : "reaches its rotation age of \(ageText)\(by)")
            }
        }
        for external in view.externalCredentials {
            let model = catalog.externalCredential(named: external.name)
            for principal in external.principals {
                secrets(
                    principal.secrets, of: "\(external.name)/\(principal.name)",
                    policy: model?.rotationPolicy(of: principal.name))
            }
        }
        for authorization in view.authorizations {
            secrets(authorization.secrets, of: "\(authorization.principal) for \(authorization.user)", policy: nil)
            if authorization.status == "needs-reauthorization" {
                add(
                    now, what: "authorization", item: "\(authorization.principal) for \(authorization.user)",
                    warning: "needs reauthorization: the provider refused its refresh token")
            }
        }
        // STS credentials have a known lifetime, and so do refresh tokens whose provider states one;
        // OAuth 2.0 access tokens renew on their own.
        for state in try IssuedCredentialState.all(in: vault, at: now) {
            let item = state.principal + (state.user.map { " for \($0)" } ?? "")
            if state.kind == "aws-sts", let text = state.expiresAt, let expires = try? Date(text, strategy: .iso8601) {
                add(
                    expires, what: "issued credential", item: item,
                    warning: "STS credentials expire; renewed on next use"
                        + (state.lastError.map { " (the last renewal failed: \($0))" } ?? ""))
            }
            if let text = state.refreshExpiresAt, let expires = try? Date(text, strategy: .iso8601) {
                let again =
                    state.user.map { "\($0) must connect again (My connections, or sigil auth login --as \($0))" }
                    ?? "authorize again with sigil auth login"
                add(expires, what: "refresh token", item: item, warning: "the refresh token expires; then \(again)")
            }
        }
        return rows.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
