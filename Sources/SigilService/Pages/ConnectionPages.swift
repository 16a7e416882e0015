import Foundation
import Hummingbird
import Logging
import SigilCore
import SigilModel
import SigilOperations
import SigilSigning
import SigilStore
import SigilTokens

/// "My connections": every per-user principal granted to the member, its status as `sigil auth
/// status` reports it, and the ways to connect (OAuth 2.0 authorization code with PKCE through
/// `/oauth/callback`, the device grant, or a form for the user's own secret fields) and disconnect.
/// A member only ever reaches their own authorizations: every route takes the user from the
/// session, never from the request, and checks the grant.
enum ConnectionPages {
    static func add(to routes: inout RouteTable, state: ServiceState) {
        routes.addPage(.get, "/connections", .member, state: state) { _, _, page in
            let rows = try connections(of: page.caller.user, state: state)
            let model = ConnectionsModel(page: page.frame("My connections"), csrf: page.session.csrf, rows: rows)
            return state.pages.page("connections", model, formTargets: rows.compactMap(\.authorizeOrigin))
        }
        routes.addPage(.post, "/connections/:credential/:principal/connect", .member, state: state) {
            _, context, page in
            let target = try connectable(context, page, state: state)
            guard let settings = target.oauth, settings.grant == .authorizationCode else {
                throw SigilError(
                    .unsupported, "\(target.reference) is not connected through an OAuth 2.0 authorization")
            }
            let request = try state.engine.issuanceRequest(for: target.key)
            let authorization = try OAuthLogin(broker: state.broker).beginCode(
                request, redirectURI: state.publicURL + "/oauth/callback")
            guard
                state.connectFlows.begin(
                    .init(
                        sessionID: page.session.id, user: page.caller.user.name, key: target.key,
                        authorization: authorization))
            else {
                throw SigilError(
                    .providerUnavailable, "too many authorizations are in progress; try again in a few minutes")
            }
            return PageRenderer.redirect(to: authorization.url)
        }
        routes.add(.get, "/oauth/callback", .anyone) { request, context in
            try await callback(request, context, state: state)
        }
        routes.addPage(.post, "/connections/:credential/:principal/device", .member, state: state) { _, context, page in
            let target = try connectable(context, page, state: state)
            guard let settings = target.oauth, settings.deviceURL != nil else {
                throw SigilError(.unsupported, "\(target.reference) has no deviceUrl: the device grant is not offered")
            }
            let request = try state.engine.issuanceRequest(for: target.key)
            let login = OAuthLogin(broker: state.broker)
            let device = try await login.beginDevice(request)
            let session = page.session
            let reference = target.reference
            let logger = context.logger
            state.connectFlows.poll {
                do {
                    try await login.completeDevice(request, device)
                    state.sessions.notify(session, .init(text: "\(reference): connected", isError: false))
                } catch let error as SigilError {
                    state.sessions.notify(session, .init(text: "\(reference): \(error.reason)", isError: true))
                } catch {
                    logger.error("device authorization failed", metadata: ["type": "\(type(of: error))"])
                }
            }
            struct Model {
                var page: PageFrame
                var principal: String
                var userCode: String
                var verificationURI: String
                var expiresMinutes: Int
            }
            let verification = device.verificationURIComplete ?? device.verificationURI
            guard PageRenderer.origin(of: verification) != nil else {
                throw SigilError(.providerFailed, "the provider's verification_uri is not an http(s) URL")
            }
            return state.pages.page(
                "device",
                Model(
                    page: page.frame("Connect \(reference)"), principal: reference.description,
                    userCode: device.userCode, verificationURI: verification,
                    expiresMinutes: max(1, device.expiresIn / 60)))
        }
        routes.addPage(.get, "/connections/:credential/:principal/secrets", .member, state: state) { _, context, page in
            let target = try connectable(context, page, state: state)
            return try secretsPage(target, page, state: state)
        }
        routes.addPage(.post, "/connections/:credential/:principal/secrets", .member, state: state) {
            _, context, page in
            let target = try connectable(context, page, state: state)
            guard let fields = target.secretFields else {
                throw SigilError(.unsupported, "\(target.reference) is not connected with secrets of your own")
            }
            let owner = SecretOwner.authorization(target.reference, user: page.caller.user.name)
            let stored = Set(try state.vault.secretStatuses(of: owner).filter { $0.current != nil }.map(\.field))
            let given = fields.filter { page.form.secret($0) != nil }
            if let missing = fields.first(where: { !stored.contains($0) && !given.contains($0) }) {
                var frame = page.frame("Connect \(target.reference)")
                frame.error = "\(missing) is required"
                return try secretsPage(target, page, state: state, frame: frame, status: .unprocessableContent)
            }
            let vault = state.vault.acting(as: page.caller.user.name)
            for field in given {
                _ = try VaultOperations.setSecret(
                    SecretTarget(owner: owner, field: field), value: page.form.secret(field)!, stage: .current,
                    in: vault)
            }
            state.sessions.notify(
                page.session,
                .init(
                    text: given.isEmpty
                        ? "\(target.reference): nothing changed" : "\(target.reference): saved and connected",
                    isError: false))
            return PageRenderer.redirect(to: "/connections")
        }
        routes.addPage(.post, "/connections/:credential/:principal/disconnect", .member, state: state) {
            _, context, page in
            let target = try connectable(context, page, state: state)
            let revocations = try await VaultOperations.delete(
                .authorization(target.reference, user: page.caller.user.name),
                in: state.vault.acting(as: page.caller.user.name), engine: state.engine, broker: state.broker)
            let outcome = revocations.map { $0.split(separator: ":", maxSplits: 1).last.map(String.init) ?? $0 }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let said = outcome.isEmpty ? "" : " (at the provider: \(outcome.joined(separator: "; ")))"
            state.sessions.notify(page.session, .init(text: "\(target.reference): disconnected\(said)", isError: false))
            return PageRenderer.redirect(to: "/connections")
        }
    }

    // MARK: The callback

    /// `GET /oauth/callback?code=&state=` (or `error=`): the provider sends the browser back here.
    /// The `state` must be one this service issued, not used before, not older than ten minutes,
    /// and started by this very browser session; then the code is exchanged (with the PKCE
    /// verifier) and the tokens sealed as the user's authorization.
    private static func callback(_ request: Request, _ context: ServiceContext, state: ServiceState) async throws
        -> Response
    {
        let query = request.uri.queryParameters
        let session = request.cookies[BrowserSessions.cookieName].flatMap { state.sessions.session($0.value) }
        guard let session else { return PageRenderer.redirect(to: "/login") }
        let caller = try Caller(
            user: session.user, authenticator: session.authenticator, catalog: state.vault.catalog())
        var frame = PageFrame(
            title: "Connecting", user: session.user, csrf: session.csrf, isOperator: caller?.has(.operator) ?? false)
        guard let stateValue = query["state"].map(String.init), !stateValue.isEmpty,
            let pending = state.connectFlows.take(state: stateValue)
        else {
            return state.pages.errorPage(
                ServiceError(
                    status: .badRequest, code: "invalid-state",
                    message:
                        "this authorization's state is unknown, already used or expired (older than ten minutes); nothing was stored. Connect again from your connections."
                ), frame: frame)
        }
        guard pending.sessionID == session.id, pending.user == session.user else {
            frame.title = "Not allowed"
            return state.pages.errorPage(
                ServiceError(
                    status: .forbidden, code: "invalid-state",
                    message: "this authorization's state was issued to another browser session; nothing was stored"),
                frame: frame)
        }
        var callback: [String: String] = [:]
        for name in ["state", "code", "error", "error_description"] {
            if let value = query[Substring(name)] { callback[name] = String(value) }
        }
        do {
            let issuance = try state.engine.issuanceRequest(for: pending.key)
            try await OAuthLogin(broker: state.broker).completeCode(issuance, pending.authorization, callback: callback)
            state.sessions.notify(session, .init(text: "\(pending.key.principal): connected", isError: false))
        } catch let error as SigilError {
            context.logger.info(
                "connect failed", metadata: ["principal": "\(pending.key.principal)", "code": "\(error.code.rawValue)"])
            state.sessions.notify(session, .init(text: "\(pending.key.principal): \(error.reason)", isError: true))
        }
        return PageRenderer.redirect(to: "/connections")
    }

    // MARK: What the pages show

    struct ConnectionsModel {
        var page: PageFrame
        var csrf: String
        var rows: [ConnectionRow]
        /// Stored, not computed: templates read properties through `Mirror`, which sees only these.
        var hasRows: Bool

        init(page: PageFrame, csrf: String, rows: [ConnectionRow]) {
            self.page = page
            self.csrf = csrf
            self.rows = rows
            self.hasRows = !rows.isEmpty
        }
    }

    struct ConnectionRow {
        var principal: String
        var externalCredential: String
        var principalName: String
        var `protocol`: String
        /// `connected`, `not-connected`, `expired` (renewed on next use), `needs-reauthorization`,
        /// `failing` (the last renewal failed).
        var state: String
        var stateText: String
        var expires: String
        var lastError: String?
        var namedCredentials: String
        /// `/connections/EC/PRINCIPAL`, each segment percent-encoded.
        var base: String
        var oauth: Bool
        var device: Bool
        var secrets: Bool
        var connected: Bool
        var connectLabel: String
        /// The OAuth provider's origin, which the connect form's redirect goes to.
        var authorizeOrigin: String?
    }

    /// The rows of `user`'s connections page, in catalog order.
    static func connections(of user: User, state: ServiceState) throws -> [ConnectionRow] {
        let catalog = try state.vault.catalog()
        let issued = try IssuedCredentialState.all(in: state.vault, at: state.clock(), user: user.name)
        let authorizations = try state.vault.authorizations().filter { $0.user == user.name }
        var rows: [ConnectionRow] = []
        for external in catalog.externalCredentials {
            for principal in external.principals.sorted(by: { $0.sequence < $1.sequence })
            where principal.type == .perUser {
                let reference = PrincipalRef(externalCredential: external.name, principal: principal.name)
                guard catalog.isGranted(reference, to: user) else { continue }
                let scheme = try? SchemeRegistry.scheme(of: external, principal: principal)
                let oauth = (scheme as? OAuth2Scheme)?.settings
                let authorization = authorizations.first { $0.principal == reference.description }
                var row = ConnectionRow(
                    principal: reference.description, externalCredential: external.name,
                    principalName: principal.name, protocol: external.authProtocol.rawValue,
                    state: "not-connected", stateText: "Not connected", expires: "",
                    namedCredentials: catalog.namedCredentials.filter { $0.externalCredential == external.name }
                        .map(\.name).joined(separator: ", "),
                    base: path(reference), oauth: oauth?.grant == .authorizationCode,
                    device: oauth?.grant == .authorizationCode && oauth?.deviceURL != nil,
                    secrets: scheme?.issuance == nil
                        && (SchemeRegistry.userSecretFields(of: external, principal: principal, in: catalog)
                            .map { !$0.isEmpty } ?? false),
                    connected: false, connectLabel: "Connect",
                    authorizeOrigin: oauth?.authorizeURL.flatMap(PageRenderer.origin(of:)))
                if scheme?.issuance != nil {
                    let status = issued.first { $0.principal == reference.description && $0.user == user.name }
                    row.lastError = status?.lastError
                    row.expires = status?.expiresAt ?? ""
                    switch status?.state {
                    case "current":
                        (row.state, row.stateText) = ("connected", "Connected")
                    case "expired":
                        (row.state, row.stateText) =
                            status?.lastError == nil
                            ? ("expired", "Expired; renewed on next use") : ("failing", "Renewal failing")
                    case "needs-reauthorization":
                        (row.state, row.stateText) = ("needs-reauthorization", "Needs reauthorization")
                    default:
                        if authorization != nil, status?.lastError != nil {
                            (row.state, row.stateText) = ("failing", "Failing")
                        }
                    }
                    row.connected = authorization != nil
                } else if let authorization, authorization.secrets.contains(where: { $0.current != nil }) {
                    (row.state, row.stateText) = ("connected", "Connected")
                    row.connected = true
                }
                if row.connected && row.state != "needs-reauthorization" { row.connectLabel = "Update" }
                if row.state == "needs-reauthorization" { row.connectLabel = "Reconnect" }
                rows.append(row)
            }
        }
        return rows
    }

    /// `/connections/EC/PRINCIPAL`, each name percent-encoded as a path segment.
    static func path(_ reference: PrincipalRef) -> String {
        "/connections/" + PercentEncoding.encode(reference.externalCredential) + "/"
            + PercentEncoding.encode(reference.principal)
    }

    // MARK: The principal a route names

    struct Target {
        let reference: PrincipalRef
        let key: IssuedCredentialKey
        let external: ExternalCredential
        let principal: Principal
        let oauth: OAuth2Settings?
        /// The user's own secret fields (Basic, custom), `nil` for other protocols.
        let secretFields: [String]?
    }

    /// The per-user principal the path names, granted to the session's user; otherwise a 404 (no
    /// such principal) or 403 (not theirs), the same for a principal that exists but is not
    /// granted as for one granted to someone else.
    private static func connectable(_ context: ServiceContext, _ page: PageRequest, state: ServiceState) throws
        -> Target
    {
        let reference = PrincipalRef(
            externalCredential: try context.parameters.decoded("credential"),
            principal: try context.parameters.decoded("principal"))
        let catalog = try state.vault.catalog()
        guard let external = catalog.externalCredential(named: reference.externalCredential),
            let principal = external.principals.first(where: { $0.name == reference.principal })
        else {
            throw SigilError(.notFound, "principal \(reference.description.sanitizedForMessage) does not exist")
        }
        guard principal.type == .perUser, catalog.isGranted(reference, to: page.caller.user) else {
            throw ServiceError.forbidden(
                "\(reference.description.sanitizedForMessage) is not a per-user principal granted to you")
        }
        let scheme = try SchemeRegistry.scheme(of: external, principal: principal)
        return Target(
            reference: reference, key: IssuedCredentialKey(principal: reference, user: page.caller.user.name),
            external: external, principal: principal, oauth: (scheme as? OAuth2Scheme)?.settings,
            secretFields: scheme.issuance == nil
                ? SchemeRegistry.userSecretFields(of: external, principal: principal, in: catalog) : nil)
    }

    private static func secretsPage(
        _ target: Target, _ page: PageRequest, state: ServiceState, frame: PageFrame? = nil,
        status: HTTPResponse.Status = .ok
    ) throws -> Response {
        guard let fields = target.secretFields, !fields.isEmpty else {
            throw SigilError(.unsupported, "\(target.reference) is not connected with secrets of your own")
        }
        struct Field {
            var name: String
            var isSet: Bool
            var inputType: String
        }
        struct Model {
            var page: PageFrame
            var csrf: String
            var principal: String
            var action: String
            var fields: [Field]
        }
        let stored = Set(
            try state.vault.secretStatuses(of: .authorization(target.reference, user: page.caller.user.name))
                .filter { $0.current != nil }.map(\.field))
        return state.pages.page(
            "secrets",
            Model(
                page: frame ?? page.frame("Connect \(target.reference)"), csrf: page.session.csrf,
                principal: target.reference.description, action: path(target.reference) + "/secrets",
                fields: fields.map {
                    Field(name: $0, isSet: stored.contains($0), inputType: $0 == "username" ? "text" : "password")
                }),
            status: status)
    }
}
