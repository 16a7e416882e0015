/// Text a provider wrote (an OAuth 2.0 `error_description`, an AWS error message) as Sigil may
/// quote it: a provider can echo what it was sent, secrets included.
enum ProviderText {
    /// `body` with every occurrence of each of `secrets` replaced by `[redacted]`.
    static func removing(_ secrets: [String], from body: [UInt8]) -> [UInt8] {
        var body = body
        for secret in secrets where secret.utf8.count >= 4 {
            let needle = Array(secret.utf8)
            var output: [UInt8] = []
            var index = 0
            var changed = false
            while index < body.count {
                if body.count - index >= needle.count, body[index] == needle[0],
                    body[index..<index + needle.count].elementsEqual(needle)
                {
                    output += "[redacted]".utf8
                    index += needle.count
                    changed = true
                } else {
                    output.append(body[index])
                    index += 1
                }
            }
            if changed { body = output }
        }
        return body
    }

    /// `text` with every word that looks like a token or key (12 characters or more, with both
    /// letters and digits) replaced by `[redacted]`: a provider may echo part of a secret, or
    /// one Sigil did not send (another client's), which no exact match would catch.
    static func redactingTokens(_ text: String) -> String {
        var result = ""
        var word = ""
        func flush() {
            let letters = word.unicodeScalars.contains { $0.properties.isAlphabetic }
            let digits = word.unicodeScalars.contains { ("0"..."9").contains($0) }
            result += word.count >= 12 && letters && digits ? "[redacted]" : word
            word = ""
        }
        for character in text {
            if character.isWhitespace || "'\"`,;()[]{}<>=:".contains(character) {
                flush()
                result.append(character)
            } else {
                word.append(character)
            }
        }
        flush()
        return result
    }
}
