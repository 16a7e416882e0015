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
        if case .scalar(let text, let plain, _) = self { return plain && ["", "~", "null", "Null", "NULL"].contains(text) }
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
        switch format {
        case .yaml: try parseYAML(text, fileName: fileName)
        case .json: try parseJSON(text, fileName: fileName)
        }
    }

    private static func parseYAML(_ text: String, fileName: String) throws(SigilError) -> ConfigNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SigilError(.invalidConfiguration, "\(fileName): not valid YAML: \(describe(error))")
        } catch {
            throw SigilError(.invalidConfiguration, "\(fileName): not valid YAML")
        }
        guard let root else { return .mapping([], line: 1) }
        return try convert(root, fileName: fileName)
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, _, _, _):
            problem
        case .duplicatedKeysInMapping(let duplicates, let context):
            "key \(duplicates.joined(separator: ", ")) appears twice in the mapping at line \(context.mark.line)"
        default:
            "the parser failed"
        }
    }

    private static func convert(_ node: Node, fileName: String) throws(SigilError) -> ConfigNode {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, plain: scalar.style == .plain || scalar.style == .any, line: line)
        case .sequence(let sequence):
            var items: [ConfigNode] = []
            for item in sequence { items.append(try convert(item, fileName: fileName)) }
            return .sequence(items, line: line)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ConfigNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw SigilError(.invalidConfiguration, "\(fileName):\(key.mark?.line ?? 0): mapping keys must be plain names")
                }
                pairs.append((keyScalar.string, try convert(value, fileName: fileName)))
            }
            return .mapping(pairs, line: line)
        case .alias:
            throw SigilError(.invalidConfiguration, "\(fileName):\(line ?? 0): YAML aliases are not supported in Sigil configuration")
        }
    }

    private static func parseJSON(_ text: String, fileName: String) throws(SigilError) -> ConfigNode {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)).node
        } catch let error as DecodingError {
            var where_ = ""
            if case .dataCorrupted(let context) = error, let underlying = context.underlyingError as NSError?,
               let index = underlying.userInfo["NSJSONSerializationErrorIndex"] as? Int {
                where_ = " near line \(text.utf8.prefix(index).filter { $0 == 0x0A }.count + 1)"
            }
            throw SigilError(.invalidConfiguration, "\(fileName): not valid JSON\(where_)")
        } catch {
            throw SigilError(.invalidConfiguration, "\(fileName): not valid JSON")
        }
    }
}

/// JSON into ``ConfigNode`` (JSON has no line numbers here; messages name the path instead).
private struct JSONValue: Decodable {
    let node: ConfigNode

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var pairs: [(key: String, value: ConfigNode)] = []
            for key in object.allKeys {
                pairs.append((key.stringValue, try object.decode(JSONValue.self, forKey: key).node))
            }
            node = .mapping(pairs, line: nil)
        } else if var array = try? decoder.unkeyedContainer() {
            var items: [ConfigNode] = []
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self).node) }
            node = .sequence(items, line: nil)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                node = .scalar("null", plain: true, line: nil)
            } else if let bool = try? value.decode(Bool.self) {
                node = .scalar(bool ? "true" : "false", plain: true, line: nil)
            } else if let int = try? value.decode(Int.self) {
                node = .scalar(String(int), plain: true, line: nil)
            } else if let double = try? value.decode(Double.self) {
                node = .scalar(String(double), plain: true, line: nil)
            } else {
                node = .scalar(try value.decode(String.self), plain: false, line: nil)
            }
        }
    }
}
