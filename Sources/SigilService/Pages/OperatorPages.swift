import Foundation
import Hummingbird
import SigilCore
import SigilModel
import SigilOperations
import SigilSigning
import SigilStore

/// The operators' pages: the credentials' health, the expiry calendar, the audit log. They read
/// what `sigil list`, `sigil auth status` and `sigil audit list` read, never a secret value.
enum OperatorPages {
    /// How far ahead the calendar looks by default.
    static let defaultWindowDays = 30
    static let auditPageSize = 50

    static func add(to routes: inout RouteTable, state: ServiceState) {
        routes.addPage(.get, "/credentials", .operator, state: state) { _, _, page in
            state.pages.page("credentials", try credentials(state, page))
        }
        routes.addPage(.get, "/expiry", .operator, state: state) { request, _, page in
            let within = try request.uri.queryParameters["within"].map { text in
                guard let days = Int(text), (1...3650).contains(days) else {
                    throw ServiceError.invalid("within: expected a number of days from 1 to 3650")
                }
                return days
            }
            return state.pages.page("expiry", try expiry(state, page, withinDays: within ?? defaultWindowDays))
        }
        routes.addPage(.get, "/audit", .operator, state: state) { request, _, page in
            try audit(request, state, page)
        }
    }

    // MARK: Credentials

    struct CredentialRow {
        var principal: String
        var `protocol`: String
        var type: String
        /// `current`, `configured`, `expired`, `failing`, `needs-reauthorization`, `invalid`,
        /// `expiring` (a client certificate its named credentials present), or for per-user
        /// principals `ok` / `attention`.
        var health: String
        var detail: String
        var lastError: String?
        var usedBy: String
    }

    struct NamedCredentialRow {
        var name: String
        var url: String
        var externalCredential: String
        var certificate: String
        var warning: String?
    }

    private static func credentials(_ state: ServiceState, _ page: PageRequest) throws -> Any {
        struct Model {
            var page: PageFrame
            var rows: [CredentialRow]
            var namedCredentials: [NamedCredentialRow]
        }
        let catalog = try state.vault.catalog()
        let now = state.clock()
        let view = try CatalogView(vault: state.vault, now: now)
        let issued = try IssuedCredentialState.all(in: state.vault, at: now)
        var rows: [CredentialRow] = []
        for external in catalog.externalCredentials {
            for principal in external.principals.sorted(by: { $0.sequence < $1.sequence }) {
                let reference = PrincipalRef(externalCredential: external.name, principal: principal.name)
                var row = CredentialRow(
                    principal: reference.description, protocol: external.authProtocol.rawValue,
                    type: principal.type.rawValue, health: "configured", detail: "",
                    usedBy: catalog.namedCredentials.filter { $0.externalCredential == external.name }.map(\.name)
                        .joined(separator: ", "))
                let scheme: (any AuthorizationScheme)?
                do {
                    scheme = try SchemeRegistry.scheme(of: external, principal: principal)
                } catch {
                    scheme = nil
                    (row.health, row.detail) = ("invalid", "its settings do not parse; sigil apply names the problem")
                }
                let states = issued.filter { $0.principal == reference.description }
                if principal.type == .perUser {
                    let users = view.authorizations.filter { $0.principal == reference.description }
                    let reauthorize = users.filter { $0.status == "needs-reauthorization" }.count
                    let failing = states.filter { $0.user != nil && $0.lastError != nil && $0.state != "current" }
                    if row.health != "invalid" {
                        row.health = reauthorize + failing.count > 0 ? "attention" : "ok"
                        row.detail =
                            "\(users.count) connected"
                            + (reauthorize > 0 ? ", \(reauthorize) need reauthorization" : "")
                            + (failing.isEmpty ? "" : ", \(failing.count) failing")
                    }
                    row.lastError = failing.compactMap(\.lastError).first
                } else if scheme?.issuance != nil, let status = states.first(where: { $0.user == nil }) {
                    row.lastError = status.lastError
                    switch status.state {
                    case "current": (row.health, row.detail) = ("current", status.expiresAt.map { "until \($0)" } ?? "")
                    case "expired":
                        (row.health, row.detail) =
                            status.lastError == nil
                            ? ("expired", "renewed on next use") : ("failing", "the last renewal failed")
                    case "needs-reauthorization": (row.health, row.detail) = ("needs-reauthorization", "")
                    default:
                        (row.health, row.detail) =
                            status.lastError == nil ? ("configured", "nothing obtained yet") : ("failing", "")
                    }
                } else if scheme != nil {
                    let secrets = try state.vault.secretStatuses(of: .principal(reference))
                    row.detail =
                        secrets.isEmpty ? "no secrets" : "secrets: \(secrets.map(\.field).joined(separator: ", "))"
                }
                // A client certificate that its named credentials present expires soon (or has).
                let expiring = view.namedCredentials.filter {
                    $0.externalCredential == external.name
                        && ["expires-soon", "expired"].contains($0.clientIdentity?.status ?? "")
                }
                if let first = expiring.first, ["configured", "current", "ok"].contains(row.health) {
                    row.health = "expiring"
                    row.detail +=
                        (row.detail.isEmpty ? "" : "; ") + (first.clientIdentity?.warning ?? "")
                        + " (\(first.name))"
                }
                rows.append(row)
            }
        }
        let named = view.namedCredentials.map { credential in
            NamedCredentialRow(
                name: credential.name, url: credential.url, externalCredential: credential.externalCredential,
                certificate: credential.clientIdentity.map { identity in
                    identity.notAfter.map { "\(identity.status), until \($0)" } ?? identity.status
                } ?? "none",
                warning: credential.clientIdentity?.warning)
        }
        return Model(page: page.frame("Credentials"), rows: rows, namedCredentials: named)
    }

    // MARK: Expiry

    private static func expiry(_ state: ServiceState, _ page: PageRequest, withinDays: Int) throws -> Any {
        struct Model {
            var page: PageFrame
            var rows: [ExpiryCalendar.Entry]
            var hasRows: Bool
            var withinDays: Int
            var rotationAgeDays: Int
        }
        let rows = try ExpiryCalendar.entries(
            in: state.vault, within: TimeInterval(withinDays) * 86_400, now: state.clock())
        return Model(
            page: page.frame("Expiry calendar"), rows: rows, hasRows: !rows.isEmpty, withinDays: withinDays,
            rotationAgeDays: ExpiryCalendar.defaultRotationAgeDays)
    }

    // MARK: Audit

    private static func audit(_ request: Request, _ state: ServiceState, _ page: PageRequest) throws -> Response {
        struct Row {
            var seq: Int64
            var at: String
            var actor: String
            var action: String
            var target: String
            var detail: String
        }
        struct Model {
            var page: PageFrame
            var user: String
            var credential: String
            var action: String
            var since: String
            var until: String
            var rows: [Row]
            var hasRows: Bool
            var nextPage: String?
            var firstPage: String?
        }
        let query = request.uri.queryParameters
        func text(_ name: String) -> String? {
            query[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        var frame = page.frame("Audit log")
        func date(_ name: String) -> Date? {
            guard let value = text(name) else { return nil }
            if let date = try? Date(value, strategy: .iso8601) { return date }
            if let date = try? Date(value + "T00:00:00Z", strategy: .iso8601) { return date }
            frame.error = "\(name): expected a date (2026-12-01) or an ISO 8601 instant"
            return nil
        }
        var filter = AuditFilter(
            user: text("user"), credential: text("credential"), since: date("since"), until: date("until"),
            action: text("action"))
        filter.before = text("before").flatMap { Int64($0) }
        var entries = try state.vault.auditEntries(limit: auditPageSize + 1, matching: filter)
        let more = entries.count > auditPageSize
        if more { entries.removeFirst() }
        var kept: [(name: String, value: String)] = []
        for (name, value) in [
            ("user", filter.user), ("credential", filter.credential), ("action", filter.action),
            ("since", text("since")), ("until", text("until")),
        ] {
            if let value { kept.append((name, value)) }
        }
        func link(before: Int64?) -> String {
            let fields = kept + (before.map { [(name: "before", value: "\($0)")] } ?? [])
            return "/audit"
                + (fields.isEmpty ? "" : "?" + String(decoding: PercentEncoding.form(fields), as: UTF8.self))
        }
        let rows = entries.reversed().map { entry in
            Row(
                seq: entry.seq, at: entry.at, actor: entry.actor, action: entry.action, target: entry.target,
                detail: entry.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        return state.pages.page(
            "audit",
            Model(
                page: frame, user: filter.user ?? "", credential: filter.credential ?? "", action: filter.action ?? "",
                since: text("since") ?? "", until: text("until") ?? "", rows: rows, hasRows: !rows.isEmpty,
                nextPage: more ? link(before: entries.first?.seq) : nil,
                firstPage: filter.before == nil ? nil : link(before: nil)),
            status: frame.error == nil ? .ok : .badRequest)
    }
}
