/// The naming rules, in one place. They are written so every name fits in a merge field
/// (`{!$Credential.Billing.apiKey}`), a `callout:NAME/...` URL and a `EC/principal` reference
/// without quoting.
public enum Names {
    public static let maximumLength = 64
    public static let maximumUserNameLength = 128

    /// Credential, principal and group names: a letter, then letters, digits, `_` or `-`;
    /// at most 64 characters. Case-sensitive.
    public static func problem(withItemName name: String) -> String? {
        check(
            name, maximum: maximumLength, first: isLetter,
            rest: { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") },
            rule: "a letter, then letters, digits, '_' or '-'")
    }

    /// Parameter and secret field names: a letter, then letters, digits or `_` (no `-`: they
    /// appear after a dot in merge fields); at most 64 characters.
    public static func problem(withFieldName name: String) -> String? {
        check(
            name, maximum: maximumLength, first: isLetter,
            rest: { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") },
            rule: "a letter, then letters, digits or '_'")
    }

    /// User names: a letter or digit, then letters, digits or `.`, `_`, `-`, `@`, `+` (an email
    /// address fits); at most 128 characters.
    public static func problem(withUserName name: String) -> String? {
        check(
            name, maximum: maximumUserNameLength, first: { isLetter($0) || isDigit($0) },
            rest: { isLetter($0) || isDigit($0) || ".-_@+".utf8.contains($0) },
            rule: "a letter or digit, then letters, digits, '.', '_', '-', '@' or '+'")
    }

    private static func check(
        _ name: String, maximum: Int, first: (UInt8) -> Bool, rest: (UInt8) -> Bool, rule: String
    ) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "is empty" }
        if bytes.count > maximum { return "is \(bytes.count) characters long; the limit is \(maximum)" }
        // A name that breaks the rule is not quoted: it may be a secret pasted in the wrong place.
        if let bad = bytes.indices.first(where: { $0 == 0 ? !first(bytes[0]) : !rest(bytes[$0]) }) {
            return "must be \(rule) (character \(bad + 1) of \(bytes.count) is not)"
        }
        return nil
    }

    /// `name` quoted for a message when it follows the field-name rule; `nil` otherwise (a text that
    /// is not name-shaped, in a place a name belongs, may be a pasted secret).
    public static func quotedIfName(_ name: String) -> String? {
        problem(withFieldName: name) == nil ? "\"\(name)\"" : nil
    }

    /// Why `text`, which goes into a public field (stored in plaintext, printed by `sigil export`),
    /// must not: it holds a PEM private-key block (`BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY`,
    /// `BEGIN ENCRYPTED PRIVATE KEY`, `BEGIN OPENSSH PRIVATE KEY`...). `nil` when it holds none. The
    /// message never quotes the text.
    public static func privateKeyProblem(in text: String) -> String? {
        guard text.contains("PRIVATE KEY") else { return nil }
        var rest = text[...]
        var found = false
        while let begin = rest.firstRange(of: "-----BEGIN ") {
            rest = rest[begin.upperBound...]
            guard let end = rest.firstRange(of: "-----") else { break }
            if rest[..<end.lowerBound].contains("PRIVATE KEY") {
                found = true
                break
            }
        }
        guard found else { return nil }
        return
            "holds a private key (a PEM \"PRIVATE KEY\" block); this field is public (stored unsealed and exported), so a private key goes in its sealed place: clientIdentity.privateKey, or a secret of the principal"
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}

extension String {
    /// A URL for an error message: its user information (`user:password@`) replaced by `***@`,
    /// and then ``sanitizedForMessage``. Messages never quote the password a URL carried.
    public var urlForMessage: String {
        var url = self[...]
        let authorityStart = url.firstRange(of: "://")?.upperBound ?? url.startIndex
        let authorityEnd = url[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        if let at = url[authorityStart..<authorityEnd].lastIndex(of: "@") {
            url.replaceSubrange(authorityStart...at, with: "***@")
        }
        return String(url).sanitizedForMessage
    }

    /// The string with control characters escaped and cut to a reasonable length, for quoting a
    /// (non-secret) value inside an error message.
    public var sanitizedForMessage: String {
        var result = ""
        for scalar in unicodeScalars.prefix(80) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return unicodeScalars.count > 80 ? result + "..." : result
    }
}
