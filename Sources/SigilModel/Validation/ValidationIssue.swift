public import SigilCore

/// One broken rule: which item, which field, what is wrong. Never holds a secret value.
public struct ValidationIssue: Sendable, Hashable, CustomStringConvertible {
    public let item: ItemRef
    public let field: String?
    public let problem: String

    public init(_ item: ItemRef, field: String? = nil, _ problem: String) {
        self.item = item
        self.field = field
        self.problem = problem
    }

    public var description: String {
        if let field { "\(item), \(field): \(problem)" } else { "\(item): \(problem)" }
    }
}

extension SigilError.Code {
    /// A configuration breaks a model rule (names, URLs, references, sequences).
    public static let invalidConfiguration = Self("invalid-configuration")
    /// An item named in a request does not exist.
    public static let notFound = Self("not-found")
    /// An item cannot be deleted or changed because others depend on it.
    public static let conflict = Self("conflict")
}

extension SigilError {
    /// One error that lists every issue, one a line.
    public static func invalid(_ issues: [ValidationIssue], file: String = #fileID, line: UInt = #line) -> SigilError {
        let lines = issues.map(\.description)
        let reason = lines.count == 1 ? lines[0] : "\(lines.count) problems:\n  " + lines.joined(separator: "\n  ")
        return SigilError(.invalidConfiguration, reason, file: file, line: line)
    }
}
