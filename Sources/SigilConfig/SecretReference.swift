public import SigilCore

/// Where a configuration file says a secret is: never the value itself, so the file can live in
/// git. `env:NAME` reads an environment variable; `file:PATH` a file (relative paths from the
/// configuration file's folder); `stdin` standard input. A value read from a file or stdin loses
/// one trailing line ending.
public enum SecretReference: Sendable, Hashable, CustomStringConvertible {
    case environment(String)
    case file(String)
    case standardInput

    /// Parses a reference; `nil` when `text` is not one. The caller must not echo `text`: it may
    /// be a secret pasted by mistake.
    public init?(parsing text: String) {
        if text == "stdin" {
            self = .standardInput
        } else if text.hasPrefix("env:") {
            let name = text.dropFirst(4)
            guard let first = name.first, first == "_" || first.isLetter,
                name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) })
            else { return nil }
            self = .environment(String(name))
        } else if text.hasPrefix("file:"), text.count > 5 {
            self = .file(String(text.dropFirst(5)))
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): "env:\(name)"
        case .file(let path): "file:\(path)"
        case .standardInput: "stdin"
        }
    }

    /// Reads the value. `baseDirectory` anchors relative file paths; `standardInput` supplies stdin
    /// (read once by the caller, since only one reference may use it). A `binary` value (a PKCS#12
    /// bundle) keeps its last byte even when it is a line ending.
    public func resolve(
        baseDirectory: String, standardInput: () throws(SigilError) -> SecretBytes, binary: Bool = false
    ) throws(SigilError) -> SecretBytes {
        let value: SecretBytes
        switch self {
        case .environment(let name):
            guard let found = SecretBytes.environment(name) else {
                throw SigilError(.secretSourceUnreadable, "environment variable \(name) is not set")
            }
            value = found
        case .file(let path):
            let contents = try SecretBytes.contents(ofFile: Self.path(path, relativeTo: baseDirectory))
            value = binary ? contents : contents.removingOneTrailingNewline()
        case .standardInput:
            value = binary ? try standardInput() : try standardInput().removingOneTrailingNewline()
        }
        guard !value.isEmpty else {
            throw SigilError(.secretSourceUnreadable, "\(self) is empty")
        }
        return value
    }

    static func path(_ path: String, relativeTo baseDirectory: String) -> String {
        path.hasPrefix("/") || baseDirectory.isEmpty ? path : baseDirectory + "/" + path
    }
}
