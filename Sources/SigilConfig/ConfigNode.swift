import Dispatch
import Foundation
import SigilCore
import SigilModel
import Yams

/// A parsed configuration document: a tree of scalars, sequences and mappings that remembers
/// where each node stood. YAML and JSON both parse into it, so one mapper serves both formats.
///
/// Scalars keep their text: the field they fill decides whether it is a string, a number or a
/// boolean, so `version: 1.0` in a parameter stays the string `1.0`, and `no` stays `no`.
indirect enum ConfigNode {
    case scalar(String, plain: Bool, line: Int?)
    case sequence([ConfigNode], line: Int?)
    case mapping([(key: String, value: ConfigNode)], line: Int?)

    var line: Int? {
        switch self {
        case .scalar(_, _, let line), .sequence(_, let line), .mapping(_, let line): line
        }
    }

    /// Whether this is YAML's null (`~`, `null`, or nothing) rather than a value.
    var isNull: Bool {
        if case .scalar(let text, let plain, _) = self {
            return plain && ["", "~", "null", "Null", "NULL"].contains(text)
        }
        return false
    }

    var kindName: String {
        switch self {
        case .scalar: isNull ? "nothing" : "a single value"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    enum Format: String, CaseIterable {
        case yaml, json

        /// The format a file name implies: `.json` is JSON, anything else YAML.
        init(fileName: String) {
            self = fileName.lowercased().hasSuffix(".json") ? .json : .yaml
        }
    }

    /// Parses `text`. Errors give the line and the parser's problem, never a snippet of the text
    /// (a secret pasted into the file by mistake must not be echoed).
    static func parse(_ text: String, format: Format, fileName: String) throws(SigilError) -> ConfigNode {
        guard text.utf8.count <= maximumBytes else {
            throw SigilError(
                .invalidConfiguration, "\(fileName): the file is \(text.utf8.count) bytes; the limit is \(maximumBytes)"
            )
        }
        return switch format {
        case .yaml: try parseYAML(text, fileName: fileName)
        case .json: try parseJSON(text, fileName: fileName)
        }
    }

    /// The largest configuration file read (a vault of 20,000 users fits in a tenth of it).
    static let maximumBytes = 32 << 20

    /// How deep documents may nest (JSON and YAML alike); Sigil's own format needs six levels.
    static let maximumDepth = StrictJSON.maximumDepth

    private static func parseYAML(_ text: String, fileName: String) throws(SigilError) -> ConfigNode {
        // Yams composes recursively, as deep as libyaml lets a document nest (1,000 levels): compose
        // on a stack that fits that, then refuse what nests deeper than `maximumDepth`. The bound is
        // the parser's own, so a quoted or plain scalar full of brackets is only a string.
        try onLargeStack { () throws(SigilError) in
            let root: Node?
            do {
                root = try Yams.compose(yaml: text)
            } catch let error as YamlError {
                if case .parser(_, let problem, let mark, _) = error, problem.hasPrefix("Maximum nesting level") {
                    throw tooDeep(fileName, line: mark.line)
                }
                throw SigilError(.invalidConfiguration, "\(fileName): not valid YAML: \(describe(error))")
            } catch {
                throw SigilError(.invalidConfiguration, "\(fileName): not valid YAML")
            }
            guard let root else { return .mapping([], line: 1) }
            return try convert(root, depth: 0, fileName: fileName)
        }
    }

    private static func tooDeep(_ fileName: String, line: Int?) -> SigilError {
        SigilError(
            .invalidConfiguration,
            "\(fileName):\(line ?? 0): not valid YAML: nested more than \(maximumDepth) levels deep")
    }

    /// The stack `parseYAML` composes on, sized for libyaml's 1,000 levels with room to spare
    /// (AddressSanitizer's frames too), whatever thread calls: one of Swift's pool, or NIO's.
    static let composeStackBytes = 32 << 20

    /// Runs `body` on a thread of its own with a ``composeStackBytes`` stack, and waits for it.
    private static func onLargeStack(
        _ body: @escaping @Sendable () throws(SigilError) -> ConfigNode
    ) throws(SigilError) -> ConfigNode {
        let outcome = Outcome()
        let thread = Thread {
            outcome.result = Result { () throws(SigilError) in try body() }
            outcome.done.signal()
        }
        thread.stackSize = composeStackBytes
        thread.start()
        outcome.done.wait()
        // The semaphore orders the thread's write before this read.
        return try outcome.result!.get()
    }

    private final class Outcome: @unchecked Sendable {
        var result: Result<ConfigNode, SigilError>?
        let done = DispatchSemaphore(value: 0)
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, _, _, _):
            problem
        case .duplicatedKeysInMapping(let duplicates, let context):
            "key \(duplicates.joined(separator: ", ")) appears twice in the mapping at line \(context.mark.line)"
        default:
            "the parser failed"
        }
    }

    /// `node` as a ``ConfigNode``; `depth` counts the collections around it.
    private static func convert(_ node: Node, depth: Int, fileName: String) throws(SigilError) -> ConfigNode {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, plain: scalar.style == .plain || scalar.style == .any, line: line)
        case .sequence(let sequence):
            guard depth < maximumDepth else { throw tooDeep(fileName, line: line) }
            var items: [ConfigNode] = []
            for item in sequence { items.append(try convert(item, depth: depth + 1, fileName: fileName)) }
            return .sequence(items, line: line)
        case .mapping(let mapping):
            guard depth < maximumDepth else { throw tooDeep(fileName, line: line) }
            var pairs: [(key: String, value: ConfigNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw SigilError(
                        .invalidConfiguration, "\(fileName):\(key.mark?.line ?? 0): mapping keys must be plain names")
                }
                pairs.append((keyScalar.string, try convert(value, depth: depth + 1, fileName: fileName)))
            }
            return .mapping(pairs, line: line)
        case .alias:
            throw SigilError(
                .invalidConfiguration, "\(fileName):\(line ?? 0): YAML aliases are not supported in Sigil configuration"
            )
        }
    }

    private static func parseJSON(_ text: String, fileName: String) throws(SigilError) -> ConfigNode {
        try StrictJSON.parse(text, fileName: fileName)
    }
}
