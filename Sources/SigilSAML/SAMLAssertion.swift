import CXMLSec
public import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// What a SAML 2.0 assertion says (saml-core, section 2.3.3), read only from the assertion the
/// verified signature covers: the C side (libxmlsec1) hands over that element alone.
public struct SAMLAssertion: Sendable {
    public var id = ""
    public var issuer = ""
    public var nameID = ""
    /// The bearer SubjectConfirmationData (saml-profiles, section 4.1.4.2).
    public var hasBearerConfirmation = false
    public var recipient: String?
    public var confirmationNotOnOrAfter: Date?
    public var inResponseTo: String?
    public var notBefore: Date?
    public var notOnOrAfter: Date?
    public var audiences: [String] = []
    public var attributes: [String: [String]] = [:]

    /// Verifies `response` (the decoded SAMLResponse) against `certificate` and reads its assertion.
    /// Throws with a reason that never quotes the document.
    public static func verified(_ response: [UInt8], certificate: String) throws(SAMLFailure)
        -> (SAMLAssertion, responseSigned: Bool)
    {
        var output: UnsafeMutablePointer<CChar>?
        var length = 0
        var responseSigned: Int32 = 0
        var reason = [CChar](repeating: 0, count: 256)
        let status = response.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                certificate.withCString { pem in
                    sigil_xmlsec_verify_saml(
                        chars.baseAddress, chars.count, pem, strlen(pem), &output, &length, &responseSigned, &reason,
                        reason.count)
                }
            }
        }
        guard status == 0, let output else {
            throw SAMLFailure(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { sigil_xmlsec_free(output) }
        let xml = Data(bytes: output, count: length)
        guard let assertion = SAMLAssertion(parsing: xml) else {
            throw SAMLFailure("the signed assertion cannot be read")
        }
        return (assertion, responseSigned != 0)
    }

    public init() {}

    /// Reads the assertion document libxmlsec1 wrote (well-formed, without DTD).
    public init?(parsing xml: Data) {
        let reader = Reader()
        let parser = XMLParser(data: xml)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        guard parser.parse(), reader.depthOK else { return nil }
        self = reader.assertion
    }

    private final class Reader: NSObject, XMLParserDelegate {
        static let ns = "urn:oasis:names:tc:SAML:2.0:assertion"
        var assertion = SAMLAssertion()
        var path: [String] = []
        var text = ""
        var attributeName: String?
        var depthOK = true

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            let local = namespaceURI == Self.ns ? name : "{\(namespaceURI ?? "")}\(name)"
            path.append(local)
            if path.count > 16 { depthOK = false }
            text = ""
            switch path {
            case ["Assertion"]:
                assertion.id = attributes["ID"] ?? ""
            case ["Assertion", "Subject", "SubjectConfirmation"]:
                if attributes["Method"] == "urn:oasis:names:tc:SAML:2.0:cm:bearer" {
                    assertion.hasBearerConfirmation = true
                }
            case ["Assertion", "Subject", "SubjectConfirmation", "SubjectConfirmationData"]:
                assertion.recipient = attributes["Recipient"]
                assertion.confirmationNotOnOrAfter = attributes["NotOnOrAfter"].flatMap(Self.instant)
                assertion.inResponseTo = attributes["InResponseTo"]
            case ["Assertion", "Conditions"]:
                assertion.notBefore = attributes["NotBefore"].flatMap(Self.instant)
                assertion.notOnOrAfter = attributes["NotOnOrAfter"].flatMap(Self.instant)
            case ["Assertion", "AttributeStatement", "Attribute"]:
                attributeName = attributes["Name"]
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if text.utf8.count < 4096 { text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            switch path {
            case ["Assertion", "Issuer"]: assertion.issuer = value
            case ["Assertion", "Subject", "NameID"]: assertion.nameID = value
            case ["Assertion", "Conditions", "AudienceRestriction", "Audience"]: assertion.audiences.append(value)
            case ["Assertion", "AttributeStatement", "Attribute", "AttributeValue"]:
                if let attributeName { assertion.attributes[attributeName, default: []].append(value) }
            default: break
            }
            text = ""
            path.removeLast()
        }

        static func instant(_ text: String) -> Date? {
            (try? Date(text, strategy: .iso8601))
                ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
    }
}

/// Why a SAML response was refused; never the document's content.
public struct SAMLFailure: Error, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}
