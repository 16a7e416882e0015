import Foundation
import Hummingbird
import Logging
import SigilCore
import SigilModel
import SigilSAML
import SigilStore

/// SAML sign-on's routes (HTTP-POST binding both ways): `GET /saml/login` answers a form that posts
/// an AuthnRequest to the IdP (no script: a button), `POST /saml/acs` takes the IdP's signed
/// Response and sets the session cookie (HttpOnly, SameSite=Lax, Secure when the consumer URL is
/// https), `POST /saml/logout` ends the session.
enum SAMLRoutes {
    static func add(to routes: inout RouteTable, state: ServiceState) {
        routes.add(.get, "/saml/login", .anyone) { request, _ in
            let settings = try samlSettings(state)
            let xml = state.samlSignOn.authnRequest(settings, at: state.clock())
            let relay = safeReturn(request.uri.queryParameters["return"].map(String.init)) ?? ""
            let page = """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Sign in to Sigil</title></head>
                <body><form method="post" action="\(SAMLSignOn.escape(settings.idpSSOURL))">
                <input type="hidden" name="SAMLRequest" value="\(Data(xml.utf8).base64EncodedString())">
                <input type="hidden" name="RelayState" value="\(SAMLSignOn.escape(relay))">
                <p>Sigil signs you in with your identity provider.</p>
                <button type="submit">Continue to sign in</button></form></body></html>
                """
            let origin = PageRenderer.origin(of: settings.idpSSOURL) ?? "'none'"
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    .contentSecurityPolicy: "default-src 'none'; form-action \(origin); frame-ancestors 'none'",
                ], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        }
        routes.add(.post, "/saml/acs", .anyone) { request, context in
            let settings = try samlSettings(state)
            var request = request
            let body = try await request.collectBody(upTo: InboundForm.maximumBytes)
            let fields = try InboundForm(parsing: body.readableBytesView)
            guard let encoded = fields["SAMLResponse"] else {
                throw ServiceError.invalid("POST /saml/acs: SAMLResponse is missing")
            }
            let catalog = try state.vault.catalog()
            let user: String
            do throws(SAMLFailure) {
                user = try state.samlSignOn.accept(encoded, settings: settings, catalog: catalog, at: state.clock())
            } catch {
                context.logger.warning("SAML response refused: \(error.reason)")
                state.metrics.authentication("saml", outcome: "failure")
                throw ServiceError(
                    status: .forbidden, code: "saml-refused", message: "the SAML response was refused: \(error.reason)")
            }
            state.metrics.authentication("saml", outcome: "success")
            let token = state.sessions.open(for: user, authenticator: "saml", minutes: settings.sessionMinutes)
            var response = Response(
                status: .seeOther,
                headers: [.location: safeReturn(fields["RelayState"]) ?? "/connections", .cacheControl: "no-store"])
            response.setCookie(
                PageRenderer.sessionCookie(
                    token, minutes: settings.sessionMinutes, secure: settings.acsURL.hasPrefix("https:")))
            return response
        }
        routes.add(.post, "/saml/logout", .member) { request, _ in
            if let token = request.cookies[BrowserSessions.cookieName]?.value { state.sessions.close(token) }
            var response = Response(status: .noContent)
            response.setCookie(PageRenderer.sessionCookie(nil))
            return response
        }
    }

    private static func samlSettings(_ state: ServiceState) throws -> ServiceSettings.SAML {
        guard let settings = try state.vault.catalog().service?.saml else {
            throw SigilError(.notFound, "SAML sign-on is not configured (service.saml)")
        }
        return settings
    }

    /// A path on this service to go back to after signing in: relative, one leading slash, no
    /// scheme, host or backslash (an open redirect otherwise).
    static func safeReturn(_ text: String?) -> String? {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\"), text.utf8.count <= 512,
            !text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F })
        else { return nil }
        return text
    }
}
