import Foundation
import SigilCore

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The parts of an STS query-protocol response Sigil reads: the credentials of an
/// `AssumeRoleResponse` (`AssumeRoleResult/Credentials/*`), or the `Error` of an `ErrorResponse`.
/// Parsed with Foundation's XMLParser; external entities are not resolved.
struct STSResponse {
    /// Credential fields by element name, as secret bytes.
    var values: [String: SecretBytes] = [:]
    var error: (code: String, message: String)?

    init(parsing body: [UInt8]) {
        // Foundation's XMLParser stops the process on names or processing instructions that are
        // not UTF-8, and on a processing instruction without data (`<?x?>`: it calls strlen on
        // NULL); all found by fuzzing. No STS answer has any of them, nor a DTD: refused first.
        guard let text = String(validating: body, as: UTF8.self), Self.plainDocument(text) else { return }
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

    /// Whether `text` is elements and text only, after an optional XML declaration: no processing
    /// instruction, DTD or other `<!` markup but CDATA.
    static func plainDocument(_ text: String) -> Bool {
        var rest = text[...].drop { $0 == "\u{FEFF}" || $0.isWhitespace }
        if rest.hasPrefix("<?xml ") || rest.hasPrefix("<?xml?") {
            // The declaration holds attributes only: a '<' inside it starts other markup.
            guard let end = rest.firstRange(of: "?>"),
                !rest[rest.index(after: rest.startIndex)..<end.lowerBound].contains("<")
            else { return false }
            rest = rest[end.upperBound...]
        }
        if rest.contains("<?") { return false }
        var scan = rest
        while let markup = scan.firstRange(of: "<!") {
            guard scan[markup.lowerBound...].hasPrefix("<![CDATA[") else { return false }
            scan = scan[markup.upperBound...]
        }
        return true
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var path: [String] = []
        var text = ""
        var credentials: [String: String] = [:]
        var errorFields: [String: String] = [:]

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
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
