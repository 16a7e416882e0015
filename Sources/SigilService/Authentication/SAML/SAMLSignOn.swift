import Crypto
import Foundation
import SigilCore
import SigilModel
import SigilSAML

/// The service provider's side of SAML 2.0 web browser sign-on (saml-profiles, section 4.1): the
/// AuthnRequests it sent (each answered once, within ten minutes), the assertions it has accepted (a
/// replayed one is refused until it expires). A success opens a ``BrowserSessions`` session.
final class SAMLSignOn: Sendable {
    static let requestLifetime: Duration = .seconds(600)
    static let capacity = 100_000

    private let pending = ExpiringCache<String, Void>(capacity: capacity)
    private let accepted = ExpiringCache<String, Void>(capacity: capacity)

    // MARK: Requests

    /// A new AuthnRequest (saml-core, section 3.4.1) as XML, remembered by its ID.
    func authnRequest(_ settings: ServiceSettings.SAML, at date: Date) -> String {
        let id = "_" + Hex.encode(SecretBytes.random(count: 16).withUnsafeBytes { Array($0) })
        pending.insert((), for: id, lifetime: Self.requestLifetime)
        return """
            <samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" \
            xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="\(id)" Version="2.0" \
            IssueInstant="\(date.formatted(.iso8601))" Destination="\(Self.escape(settings.idpSSOURL))" \
            AssertionConsumerServiceURL="\(Self.escape(settings.acsURL))" \
            ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">\
            <saml:Issuer>\(Self.escape(settings.spEntityID))</saml:Issuer></samlp:AuthnRequest>
            """
    }

    /// Checks a posted SAMLResponse (base64) and returns the Sigil user it signs on, or why not.
    func accept(_ encoded: String, settings: ServiceSettings.SAML, catalog: Catalog, at now: Date) throws(SAMLFailure)
        -> String
    {
        guard encoded.utf8.count <= 12 << 20,
            let response = Data(base64Encoded: encoded.filter { !$0.isWhitespace })
        else { throw SAMLFailure("SAMLResponse is not base64") }
        let (assertion, _) = try SAMLAssertion.verified(Array(response), certificate: settings.idpCertificate)
        let skew = TimeInterval(settings.clockSkewSeconds)
        guard assertion.issuer == settings.idpEntityID else {
            throw SAMLFailure("the assertion's issuer is not the IdP")
        }
        guard assertion.audiences.contains(settings.spEntityID) else {
            throw SAMLFailure("the assertion is not for this service (audience)")
        }
        guard assertion.hasBearerConfirmation, assertion.recipient == settings.acsURL else {
            throw SAMLFailure("the assertion is not for this service's assertion consumer URL (recipient)")
        }
        guard let expiry = assertion.confirmationNotOnOrAfter, now < expiry.addingTimeInterval(skew),
            assertion.notOnOrAfter.map({ now < $0.addingTimeInterval(skew) }) ?? true
        else { throw SAMLFailure("the assertion has expired") }
        if let notBefore = assertion.notBefore, now < notBefore.addingTimeInterval(-skew) {
            throw SAMLFailure("the assertion is not valid yet")
        }
        // The request it answers: ours, not answered before, not too old.
        guard let id = assertion.inResponseTo, pending.remove(id) != nil else {
            throw SAMLFailure("the assertion answers no sign-on this service started (InResponseTo)")
        }
        // Remembered until it expires (a full memory refuses rather than forgets).
        let lifetime = Duration.seconds(max(1, expiry.addingTimeInterval(skew).timeIntervalSince(now)))
        guard !assertion.id.isEmpty, accepted.value(for: assertion.id) == nil,
            accepted.insert((), for: assertion.id, lifetime: lifetime)
        else { throw SAMLFailure("the assertion was used before (replay)") }
        let user = settings.userAttribute.flatMap { assertion.attributes[$0]?.first } ?? assertion.nameID
        guard catalog.user(named: user) != nil else {
            throw SAMLFailure("user \(user.sanitizedForMessage) is not a Sigil user")
        }
        return user
    }

    /// Text for an XML attribute or element.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
