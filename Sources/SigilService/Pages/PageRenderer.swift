import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import SigilCore

/// Renders the pages from the Mustache templates compiled into the binary (``EmbeddedTemplates``),
/// every value escaped by the template engine, and answers them with the pages' headers.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let stylesheet: String

    init() {
        var library = MustacheLibrary()
        for (file, text) in EmbeddedTemplates.files where file.hasSuffix(".mustache") {
            // The templates are the binary's own, checked by PageTemplateTests: one that does not
            // parse is a build defect, not a runtime condition.
            do {
                try library.register(text, named: String(file.dropLast(".mustache".count)))
            } catch {
                preconditionFailure("template \(file) does not parse: \(error)")
            }
        }
        self.library = library
        self.stylesheet = EmbeddedTemplates.files["sigil.css"] ?? ""
    }

    /// `template` rendered with `model`, as an HTML answer. `formTargets`: origins besides this
    /// service that the page's forms lead to (the OAuth providers a connect form redirects to:
    /// browsers check a form's redirects against `form-action` too).
    func page(
        _ template: String, _ model: Any, status: HTTPResponse.Status = .ok, formTargets: [String] = []
    ) -> Response {
        let html = self.html(template, model) ?? ""
        var response = Response(
            status: status, headers: Self.headers(formTargets: formTargets),
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        response.headers[.contentType] = "text/html; charset=utf-8"
        return response
    }

    /// `template` rendered with `model`; `nil` when there is no such template.
    func html(_ template: String, _ model: Any) -> String? {
        library.render(model, withTemplate: template)
    }

    /// The headers of every page: not cached, not framed, not sniffed, no scripts, no inline
    /// styles, forms only to this service (and `formTargets`), no referrer sent onwards.
    static func headers(formTargets: [String] = []) -> HTTPFields {
        let formAction = (["'self'"] + formTargets).joined(separator: " ")
        return [
            .cacheControl: "no-store",
            .contentSecurityPolicy:
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action \(formAction); frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
            HTTPField.Name("X-Frame-Options")!: "DENY",
        ]
    }

    /// A redirect after a form or to the login page (303: the browser follows with GET).
    static func redirect(to location: String) -> Response {
        var headers = headers()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// The session cookie: HttpOnly, SameSite=Lax, for the whole service, Secure under TLS.
    /// `nil` ends it.
    static func sessionCookie(_ token: String?, minutes: Int = 0, secure: Bool = false) -> Cookie {
        Cookie(
            name: BrowserSessions.cookieName, value: token ?? "", maxAge: token == nil ? 0 : minutes * 60, path: "/",
            secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The login form's own CSRF cookie (double submit: the form carries the same random value),
    /// so that another site cannot sign a browser in to an account of its choosing.
    static let loginCookieName = "sigil_login"

    static func loginCookie(_ token: String?, secure: Bool) -> Cookie {
        Cookie(
            name: loginCookieName, value: token ?? "", maxAge: token == nil ? 0 : 1800, path: "/login", secure: secure,
            httpOnly: true, sameSite: .strict)
    }

    /// The origin (`scheme://host[:port]`) of an absolute http(s) URL, for `form-action`.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty,
            host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) })
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}
