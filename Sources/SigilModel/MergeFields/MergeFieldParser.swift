/// A recursive-descent parser for ``MergeTemplate``'s grammar, over Unicode scalars so positions
/// count characters as people do.
struct MergeFieldParser {
    /// How deep function calls may nest (`HEX(HASH('SHA256', ...))` is two): the parser and the
    /// evaluator recurse, so a deeper template would exhaust the stack.
    static let maximumDepth = 16

    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var depth = 0

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    /// Positions are 1-based for messages.
    private var position: Int { index + 1 }

    mutating func parseTemplate() throws(MergeFieldError) -> [MergeTemplate.Part] {
        var parts: [MergeTemplate.Part] = []
        var text: [Unicode.Scalar] = []
        while index < scalars.count {
            if scalars[index] == "{", index + 1 < scalars.count, scalars[index + 1] == "!" {
                if !text.isEmpty {
                    parts.append(.text(utf8(text)))
                    text.removeAll()
                }
                let start = position
                index += 2
                skipSpaces()
                if peek == "}" { throw MergeFieldError(position: start, "empty merge field {!}") }
                let expression = try parseExpression()
                skipSpaces()
                guard peek == "}" else {
                    if index >= scalars.count {
                        throw MergeFieldError(position: start, "merge field is not closed with }")
                    }
                    throw MergeFieldError(position: position, "expected } or &, found \(describe(peek))")
                }
                index += 1
                parts.append(.expression(expression))
            } else {
                text.append(scalars[index])
                index += 1
            }
        }
        if !text.isEmpty { parts.append(.text(utf8(text))) }
        return parts
    }

    private mutating func parseExpression() throws(MergeFieldError) -> MergeTemplate.Expression {
        var terms = [try parseTerm()]
        skipSpaces()
        while peek == "&" {
            index += 1
            skipSpaces()
            terms.append(try parseTerm())
            skipSpaces()
        }
        return terms.count == 1 ? terms[0] : .concatenation(terms)
    }

    private mutating func parseTerm() throws(MergeFieldError) -> MergeTemplate.Expression {
        guard let next = peek else { throw MergeFieldError(position: position, "expected a value, found the end") }
        if next == "'" {
            let start = position
            index += 1
            var value: [Unicode.Scalar] = []
            while let scalar = peek, scalar != "'" {
                value.append(scalar)
                index += 1
            }
            guard peek == "'" else { throw MergeFieldError(position: start, "string is not closed with '") }
            index += 1
            return .string(utf8(value))
        }
        let start = position
        let name = readName()
        guard !name.isEmpty else { throw MergeFieldError(position: start, "expected a value, found \(describe(next))") }
        if name.hasPrefix("$") {
            return .reference(try reference(name, at: start), position: start)
        }
        guard let function = MergeFunction(rawValue: name) else {
            throw MergeFieldError(
                position: start,
                "unknown name \(name); functions are \(MergeFunction.allCases.map(\.rawValue).joined(separator: ", ")), references start with $Credential."
            )
        }
        skipSpaces()
        guard peek == "(" else { throw MergeFieldError(position: position, "expected ( after \(name)") }
        guard depth < Self.maximumDepth else {
            throw MergeFieldError(position: start, "functions are nested more than \(Self.maximumDepth) deep")
        }
        depth += 1
        defer { depth -= 1 }
        index += 1
        skipSpaces()
        var arguments: [MergeTemplate.Expression] = []
        if peek != ")" {
            arguments.append(try parseExpression())
            skipSpaces()
            while peek == "," {
                index += 1
                skipSpaces()
                arguments.append(try parseExpression())
                skipSpaces()
            }
        }
        guard peek == ")" else {
            throw MergeFieldError(
                position: position, "expected , or ) in the arguments of \(name), found \(describe(peek))")
        }
        index += 1
        guard arguments.count == function.arity else {
            throw MergeFieldError(
                position: start,
                "\(name) takes \(function.arity) argument\(function.arity == 1 ? "" : "s"), not \(arguments.count)")
        }
        if let algorithm = function.algorithmArgument {
            guard case .string(let bytes) = arguments[algorithm],
                HashAlgorithm(rawValue: String(decoding: bytes, as: UTF8.self)) != nil
            else {
                throw MergeFieldError(
                    position: start, "\(name)'s first argument is the algorithm: 'SHA1', 'SHA256', 'SHA384' or 'SHA512'"
                )
            }
        }
        return .call(function, arguments, position: start)
    }

    private func reference(_ name: String, at start: Int) throws(MergeFieldError) -> MergeReference {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "$Credential" else {
            throw MergeFieldError(position: start, "unknown reference \(name); only $Credential references exist")
        }
        switch parts.count {
        case 2:
            switch parts[1] {
            case "UserName", "Username": return .userName
            case "Password": return .password
            case "OAuthToken": return .oauthToken
            case "AuthorizationHeaderValue": return .authorizationHeaderValue
            default:
                throw MergeFieldError(
                    position: start,
                    "unknown reference \(name); use UserName, Password, OAuthToken, AuthorizationHeaderValue or <ExternalCredential>.<name>"
                )
            }
        case 3 where !parts[1].isEmpty && !parts[2].isEmpty:
            return .field(externalCredential: parts[1], name: parts[2])
        default:
            throw MergeFieldError(position: start, "malformed reference \(name)")
        }
    }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func skipSpaces() {
        while let scalar = peek, scalar == " " || scalar == "\t" { index += 1 }
    }

    private mutating func readName() -> String {
        var name = ""
        while let scalar = peek,
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "$._-".unicodeScalars.contains(scalar)
        {
            name.unicodeScalars.append(scalar)
            index += 1
        }
        return name
    }

    private func describe(_ scalar: Unicode.Scalar?) -> String {
        scalar.map { "'\($0)'" } ?? "the end"
    }

    private func utf8(_ scalars: [Unicode.Scalar]) -> [UInt8] {
        var string = ""
        string.unicodeScalars.append(contentsOf: scalars)
        return Array(string.utf8)
    }
}
