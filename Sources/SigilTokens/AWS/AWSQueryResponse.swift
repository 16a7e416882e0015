import Foundation
import SigilCore

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An AWS query-protocol response (STS, IAM), as Sigil reads it: the text of every element that
/// holds no other element, by the name of its parent (`AssumeRoleResult/Credentials/*`,
/// `CreateAccessKeyResult/AccessKey/*`), the entries of lists (`member` elements), and the `Error` of
/// an `ErrorResponse`. Parsed with Foundation's XMLParser; external entities are not resolved.
struct AWSQueryResponse {
    /// Credential fields of an `AssumeRoleResponse` by element name, as secret bytes.
    var values: [String: SecretBytes] { self.values(in: "Credentials") }
    /// Leaf elements by parent name, then element name (values as secret bytes: some are keys).
    private var leaves: [String: [String: SecretBytes]] = [:]
    /// The leaf elements of each `member` element, in document order.
    var members: [[String: String]] = []
    var error: (code: String, message: String)?

    /// The leaf elements whose parent is named `parent` (`AccessKey`, `GetCallerIdentityResult`).
    func values(in parent: String) -> [String: SecretBytes] {
        leaves[parent] ?? [:]
    }

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
        leaves = collector.leaves.mapValues { $0.mapValues { SecretBytes(utf8: $0) } }
        members = collector.members
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
        var leaves: [String: [String: String]] = [:]
        var members: [[String: String]] = []
        var errorFields: [String: String] = [:]
        /// Whether the element being read has a child element (then it is not a leaf).
        var hasChild: [Bool] = []

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if !hasChild.isEmpty { hasChild[hasChild.count - 1] = true }
            path.append(name)
            hasChild.append(false)
            if name == "member" { members.append([:]) }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let leaf = hasChild.popLast() == false
            let parent = path.dropLast().last ?? ""
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if leaf {
                leaves[parent, default: [:]][name] = value
                if path.dropLast().contains("member"), !members.isEmpty {
                    members[members.count - 1][name] = value
                }
                if parent == "Error", ["Code", "Message"].contains(name) { errorFields[name] = value }
            }
            path.removeLast()
            text = ""
        }
    }
}
