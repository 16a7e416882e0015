import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SigilCore
import SigilModel
import SigilStore

/// What a page handler works with: the caller, their browser session, and (for a POST) the form,
/// whose CSRF token has been checked.
struct PageRequest {
    let caller: Caller
    let session: BrowserSessions.Session
    let form: InboundForm
    /// The notice left for this page by the redirect that led here, if any.
    let notice: BrowserSessions.Notice?

    /// The frame of a page for this caller: title, user, CSRF token, the operator's links, and
    /// the notice.
    func frame(_ title: String) -> PageFrame {
        PageFrame(
            title: title, user: caller.user.name, csrf: session.csrf, isOperator: caller.has(.operator),
            message: notice.flatMap { $0.isError ? nil : $0.text }, error: notice.flatMap { $0.isError ? $0.text : nil }
        )
    }
}

/// What the layout template shows around every page.
struct PageFrame {
    var title: String
    var user: String?
    var csrf: String?
    var isOperator = false
    var message: String?
    var error: String?
    /// Set on error pages: `<main id="error-page" data-code="...">`.
    var errorCode: String?
}

extension RouteTable {
    typealias PageHandler = @Sendable (Request, ServiceContext, PageRequest) async throws -> Response

    /// Adds a page: like ``add(_:_:_:_:)``, with the page's own answers. The page needs the
    /// browser's session (`sigil_session`), not another credential the request carries: anyone
    /// without one is sent to the login form; a session without the role gets a 403 page. A POST's
    /// form must carry the session's CSRF token. Errors come back as HTML pages.
    mutating func addPage(
        _ method: HTTPRequest.Method, _ path: String, _ access: Access, state: ServiceState,
        _ handler: @escaping PageHandler
    ) {
        precondition(access != .anyone, "a page for anyone needs no session: add it with add(_:_:_:_:)")
        entries.append(Entry(method: method.rawValue, path: path, access: access, isPage: true))
        router.on(RouterPath(path), method: method) { request, context -> Response in
            guard let caller = context.caller, let token = request.cookies[BrowserSessions.cookieName]?.value,
                let session = state.sessions.session(token), session.user == caller.user.name,
                caller.authenticator == session.authenticator
            else {
                if let error = context.catalogError {
                    return state.pages.errorPage(error, frame: PageFrame(title: "Sigil is not available"))
                }
                return PageRenderer.redirect(to: PageRoutes.loginURL(returningTo: request))
            }
            var page = PageRequest(caller: caller, session: session, form: InboundForm(), notice: nil)
            guard access.admits(caller) else {
                return state.pages.errorPage(
                    ServiceError.forbidden(
                        "\(path) is for \(access == .admin ? "admins" : "operators and admins")"),
                    frame: page.frame("Not allowed"))
            }
            do {
                if method == .post {
                    var request = request
                    let body = try await request.collectBody(upTo: InboundForm.maximumBytes)
                    let form = try InboundForm(parsing: body.readableBytesView)
                    guard let csrf = form["csrf"], BrowserSessions.matches(csrf, session.csrf) else {
                        return state.pages.errorPage(
                            ServiceError(
                                status: .forbidden, code: "csrf",
                                message:
                                    "the form did not carry this session's token (it came from another page or an ended session); nothing was changed"
                            ), frame: page.frame("Not allowed"))
                    }
                    page = PageRequest(caller: caller, session: session, form: form, notice: nil)
                } else {
                    page = PageRequest(
                        caller: caller, session: session, form: InboundForm(),
                        notice: state.sessions.takeNotice(session))
                }
                return try await handler(request, context, page)
            } catch {
                if !(error is SigilError || error is ServiceError) {
                    context.logger.error(
                        "internal error", metadata: ["path": "\(path)", "type": "\(type(of: error))"])
                }
                return state.pages.errorPage(error, frame: page.frame("Something went wrong"))
            }
        }
    }
}

extension PageRenderer {
    /// An error as a page: its status, its code in `data-code`, its message (errors never carry a
    /// secret), a link back.
    func errorPage(_ error: any Error, frame: PageFrame) -> Response {
        let (status, frame) = Self.describe(error, in: frame)
        return page("error", ["page": frame], status: status)
    }

    /// The status, code and message an error page shows for `error`.
    static func describe(_ error: any Error, in frame: PageFrame) -> (HTTPResponse.Status, PageFrame) {
        var frame = frame
        switch error {
        case let error as SigilError:
            frame.errorCode = error.code.rawValue
            frame.error = error.reason
            return (ServiceError.status(of: error.code), frame)
        case let error as ServiceError:
            frame.errorCode = error.code
            frame.error = error.message
            return (error.status, frame)
        default:
            frame.errorCode = "internal"
            frame.error = "internal error"
            return (.internalServerError, frame)
        }
    }
}

/// The pages that need no session: the login form, logging out, the stylesheet, and `/` (which
/// leads to the connections).
enum PageRoutes {
    /// How long a session opened by the login form lasts (SAML sessions last `service.saml.sessionMinutes`).
    static let loginSessionMinutes = 60

    static func add(to routes: inout RouteTable, state: ServiceState, chain: AuthenticatorChain) {
        routes.add(.get, "/", .anyone) { _, _ in PageRenderer.redirect(to: "/connections") }
        routes.add(.get, "/static/sigil.css", .anyone) { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300",
                    .xContentTypeOptions: "nosniff",
                ], body: ResponseBody(byteBuffer: ByteBuffer(string: state.pages.stylesheet)))
        }
        routes.add(.get, "/login", .anyone) { request, _ in
            if let token = request.cookies[BrowserSessions.cookieName]?.value, state.sessions.session(token) != nil {
                return PageRenderer.redirect(to: returnPath(request.uri.queryParameters["return"].map(String.init)))
            }
            return try loginPage(state, returnTo: request.uri.queryParameters["return"].map(String.init))
        }
        routes.add(.post, "/login", .anyone) { request, context in
            var request = request
            let body = try await request.collectBody(upTo: InboundForm.maximumBytes)
            let form: InboundForm
            do {
                form = try InboundForm(parsing: body.readableBytesView)
            } catch let error as SigilError {
                return try loginPage(state, returnTo: nil, error: error.reason, status: .badRequest)
            }
            let returnTo = form["return"]
            guard let expected = request.cookies[PageRenderer.loginCookieName]?.value, let csrf = form["csrf"],
                BrowserSessions.matches(csrf, expected)
            else {
                return try loginPage(
                    state, returnTo: returnTo,
                    error: "the login form had expired or came from another site; try again", status: .badRequest)
            }
            guard let user = form["user"], let password = form.secret("password") else {
                return try loginPage(
                    state, returnTo: returnTo, error: "enter your user name and password", status: .badRequest)
            }
            let caller: Caller
            do {
                caller = try await chain.logIn(user: user, password: password, context: context)
            } catch let error as ServiceError where error.status == .tooManyRequests {
                return try loginPage(state, returnTo: returnTo, error: error.message, status: .tooManyRequests)
            } catch let error as ServiceError where error.status == .unauthorized {
                return try loginPage(
                    state, returnTo: returnTo, error: "the user name or password is not right", status: .unauthorized)
            }
            let secure = state.publicURL.hasPrefix("https:")
            let token = state.sessions.open(
                for: caller.user.name, groups: caller.user.groups, authenticator: "login", minutes: loginSessionMinutes)
            var response = PageRenderer.redirect(to: returnPath(returnTo))
            response.setCookie(PageRenderer.sessionCookie(token, minutes: loginSessionMinutes, secure: secure))
            response.setCookie(PageRenderer.loginCookie(nil, secure: secure))
            return response
        }
        routes.addPage(.post, "/logout", .member, state: state) { request, _, _ in
            if let token = request.cookies[BrowserSessions.cookieName]?.value { state.sessions.close(token) }
            var response = PageRenderer.redirect(to: "/login")
            response.setCookie(PageRenderer.sessionCookie(nil, secure: state.publicURL.hasPrefix("https:")))
            return response
        }
    }

    /// The login form, with a fresh token in its CSRF cookie.
    private static func loginPage(
        _ state: ServiceState, returnTo: String?, error: String? = nil, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        struct Model {
            var page: PageFrame
            var loginCSRF: String
            var returnTo: String
            var saml: Bool
            var samlReturn: String
        }
        let token = BrowserSessions.randomToken()
        let returnTo = returnPath(returnTo)
        var frame = PageFrame(title: "Log in to Sigil")
        frame.error = error
        var response = state.pages.page(
            "login",
            Model(
                page: frame, loginCSRF: token, returnTo: returnTo,
                saml: (try? state.vault.catalog().service?.saml) != nil,
                samlReturn: "?return=" + PercentEncoding.encode(returnTo)),
            status: status)
        response.setCookie(PageRenderer.loginCookie(token, secure: state.publicURL.hasPrefix("https:")))
        return response
    }

    /// Where to go after logging in: a path on this service (``SAMLRoutes/safeReturn(_:)``), else
    /// the connections.
    static func returnPath(_ text: String?) -> String {
        SAMLRoutes.safeReturn(text) ?? "/connections"
    }

    /// `/login?return=<this page>`.
    static func loginURL(returningTo request: Request) -> String {
        let path = request.method == .get ? request.uri.description : request.uri.path
        guard SAMLRoutes.safeReturn(path) != nil, path != "/" else { return "/login" }
        return "/login?return=" + PercentEncoding.encode(path)
    }
}
