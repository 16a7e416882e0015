import Crypto
import CryptoExtras
import Foundation
import SigilCore
import SigilModel
import SigilSigning

/// A SAML 2.0 bearer assertion that Sigil issues and signs itself, for the SAML 2.0 bearer grant
/// (RFC 7522) and Salesforce's SAML assertion flow.
///
/// The XML is written directly in its exclusive canonical form (no XML declaration, attributes in
/// canonical order, no empty-element tags, values escaped as C14N escapes them), so the digest and
/// signature are computed over exactly the bytes sent, with no XML library. The signature is
/// enveloped (XML-DSig): `exc-c14n`, RSA-SHA256, SHA-256 digest, referencing the assertion's `ID`.
struct SAMLAssertion {
    var issuer: String
    var subject: String
    var audience: String
    var recipient: String
    var lifetime: Int = 300
    var now: Date

    static let assertionNamespace = "urn:oasis:names:tc:SAML:2.0:assertion"
    static let protocolNamespace = "urn:oasis:names:tc:SAML:2.0:protocol"
    static let dsigNamespace = "http://www.w3.org/2000/09/xmldsig#"

    /// The signed `<saml:Assertion>`, in canonical form. `certificatePEM`, when given, is carried in
    /// `KeyInfo/X509Data` (the verifier still decides which keys it trusts).
    func signed(with privateKeyPEM: SecretBytes, certificatePEM: String?, owner: String) throws -> String {
        let key: _RSA.Signing.PrivateKey
        do {
            // Read without the library's size floor, so a short key gets the clear message below.
            key = try privateKeyPEM.withUnsafeBytes {
                try _RSA.Signing.PrivateKey(unsafePEMRepresentation: String(decoding: $0, as: UTF8.self))
            }
        } catch {
            throw SigilError(
                .invalidSecret,
                "\(owner): privateKey is not an RSA private key in PEM (SAML assertions are signed with RSA-SHA256)")
        }
        guard key.keySizeInBits >= 2048 else {
            throw SigilError(
                .invalidSecret, "\(owner): the RSA key has \(key.keySizeInBits) bits; at least 2048 are required")
        }
        let id = Self.uniqueID()
        let issued = Self.time(now)
        let expires = Self.time(now.addingTimeInterval(TimeInterval(lifetime)))
        let notBefore = Self.time(now.addingTimeInterval(-60))
        let head =
            #"<saml:Assertion xmlns:saml="\#(Self.assertionNamespace)" ID="\#(id)" IssueInstant="\#(issued)" Version="2.0">"#
            + "<saml:Issuer>\(Self.text(issuer))</saml:Issuer>"
        let body =
            #"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">"#
            + Self.text(subject) + "</saml:NameID>"
            + #"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#
            + #"<saml:SubjectConfirmationData NotOnOrAfter="\#(expires)" Recipient="\#(Self.attribute(recipient))"></saml:SubjectConfirmationData>"#
            + "</saml:SubjectConfirmation></saml:Subject>"
            + #"<saml:Conditions NotBefore="\#(notBefore)" NotOnOrAfter="\#(expires)">"#
            + "<saml:AudienceRestriction><saml:Audience>\(Self.text(audience))</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
            + #"<saml:AuthnStatement AuthnInstant="\#(issued)"><saml:AuthnContext>"#
            + "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</saml:AuthnContextClassRef>"
            + "</saml:AuthnContext></saml:AuthnStatement></saml:Assertion>"
        // The enveloped-signature transform removes the Signature: the digest covers the rest.
        let digest = Data(SHA256.hash(data: Array((head + body).utf8))).base64EncodedString()
        let signedInfoContent =
            ##"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>"##
            + ##"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>"##
            + ##"<ds:Reference URI="#\##(id)"><ds:Transforms>"##
            + ##"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>"##
            + ##"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>"##
            + ##"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>"##
            + "<ds:DigestValue>\(digest)</ds:DigestValue></ds:Reference>"
        // SignedInfo is canonicalized on its own: as the apex it declares the ds namespace it uses.
        let canonicalSignedInfo =
            #"<ds:SignedInfo xmlns:ds="\#(Self.dsigNamespace)">"# + signedInfoContent + "</ds:SignedInfo>"
        let signature = try key.signature(
            for: SHA256.hash(data: Array(canonicalSignedInfo.utf8)), padding: .insecurePKCS1v1_5)
        var keyInfo = ""
        if let certificatePEM {
            guard let der = PEM.firstCertificate(in: certificatePEM) else {
                throw SigilError(.invalidSecret, "\(owner): certificate is not a PEM certificate")
            }
            let base64 = Data(der).base64EncodedString()
            keyInfo =
                "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>\(base64)</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        }
        let signatureElement =
            #"<ds:Signature xmlns:ds="\#(Self.dsigNamespace)"><ds:SignedInfo>"# + signedInfoContent + "</ds:SignedInfo>"
            + "<ds:SignatureValue>\(signature.rawRepresentation.base64EncodedString())</ds:SignatureValue>" + keyInfo
            + "</ds:Signature>"
        // Schema order: Issuer, Signature, Subject, Conditions, AuthnStatement.
        return head + signatureElement + body
    }

    /// A `<samlp:Response>` carrying `assertion` (Web SSO's shape, which Salesforce's assertion
    /// flow takes); the assertion inside is what is signed.
    func response(wrapping assertion: String) -> String {
        let id = Self.uniqueID()
        return
            #"<samlp:Response xmlns:samlp="\#(Self.protocolNamespace)" Destination="\#(Self.attribute(recipient))" ID="\#(id)" IssueInstant="\#(Self.time(now))" Version="2.0">"#
            + #"<saml:Issuer xmlns:saml="\#(Self.assertionNamespace)">\#(Self.text(issuer))</saml:Issuer>"#
            + #"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"></samlp:StatusCode></samlp:Status>"#
            + assertion + "</samlp:Response>"
    }

    /// An XML ID: `_` and 20 random bytes in hex.
    static func uniqueID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "_" + Hex.encode((0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }

    /// Text content as C14N writes it.
    static func text(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\r", with: "&#xD;")
    }

    /// An attribute value as C14N writes it.
    static func attribute(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "\t", with: "&#x9;")
            .replacingOccurrences(of: "\n", with: "&#xA;").replacingOccurrences(of: "\r", with: "&#xD;")
    }
}
