import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SigilCore

/// The parts of an STS query-protocol response Sigil reads: the credentials of an
/// `AssumeRoleResponse` (`AssumeRoleResult/Credentials/*`), or the `Error` of an `ErrorResponse`.
/// Parsed with Foundation's XMLParser; external entities are not resolved.
struct STSResponse {
    /// Credential fields by element name, as secret bytes.
    var values: [String: SecretBytes] = [:]
    var error: (code: String, message: String)?

    init(parsing body: [UInt8]) {
        // Foundation's XMLParser stops the process on names or processing instructions that are
        // not UTF-8 (found by fuzzing): such a body is no STS answer anyway.
        guard String(validating: body, as: UTF8.self) != nil else { return }
        let collector = Collector()
        let parser = XMLParser(data: Data(body))
        parser.shouldResolveExternalEntities = false
        parser.delegate = collector
        guard parser.parse() else { return }
        values = collector.credentials.mapValues { SecretBytes(utf8: $0) }
        if let code = collector.errorFields["Code"] {
            error = (code, collector.errorFields["Message"] ?? "")
        }
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var path: [String] = []
        var text = ""
        var credentials: [String: String] = [:]
        var errorFields: [String: String] = [:]

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            path.append(name)
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let parent = path.dropLast().suffix(2)
            if parent.elementsEqual(["AssumeRoleResult", "Credentials"]) {
                credentials[name] = text.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if parent.last == "Error", ["Code", "Message"].contains(name) {
                errorFields[name] = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            path.removeLast()
            text = ""
        }
    }
}
