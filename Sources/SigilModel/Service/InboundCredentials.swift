import Foundation
public import SigilCore

/// What a caller of the service presents, parsed: each parser takes outside input and is fuzzed
/// (`Fuzz/`, target `inbound`).
public enum InboundCredentials {
    /// `Authorization: Basic base64(user ":" password)` (RFC 7617, section 2): the user (a valid
    /// Sigil user name) and the password as ``SecretBytes``; `nil` for anything else. The decoded
    /// bytes are wiped.
    public static func basic(_ header: String) -> (user: String, password: SecretBytes)? {
        guard header.utf8.count > 6, header.utf8.count <= 4102, header.prefix(6).lowercased() == "basic " else {
            return nil
        }
        let encoded = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard var decoded = Data(base64Encoded: encoded) else { return nil }
        defer { decoded.resetBytes(in: 0..<decoded.count) }
        guard let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let user = String(decoding: decoded[..<colon], as: UTF8.self)
        guard !user.isEmpty, Names.problem(withUserName: user) == nil else { return nil }
        return (user, SecretBytes(copying: decoded[decoded.index(after: colon)...]))
    }

    /// The prefix of every API key: `sigil_<16 hex id>_<43 base64url>`.
    public static let apiKeyPrefix = "sigil_"
    /// The length of an API key.
    public static let apiKeyLength = 66

    /// The public id of an API key (its 16 hex digits), or `nil` when `key` is not shaped like one.
    public static func apiKeyID(_ key: UnsafeRawBufferPointer) -> String? {
        guard key.count == apiKeyLength, key.starts(with: apiKeyPrefix.utf8), key[22] == UInt8(ascii: "_") else {
            return nil
        }
        let id = key[6..<22]
        guard id.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// `text` when it is an identity URL the service may ask: https (http only on loopback), on one
    /// of `hosts` (`host` or `host:port`, compared without case), without user info or fragment.
    public static func identityURL(_ text: String, allowedHosts hosts: [String]) -> String? {
        guard text.utf8.count <= 2048, let components = URLComponents(string: text),
            let host = components.host?.lowercased(), !host.isEmpty, components.user == nil,
            components.password == nil, components.fragment == nil
        else { return nil }
        let loopback = isLoopback(host)
        guard components.scheme == "https" || (components.scheme == "http" && loopback) else { return nil }
        let withPort = components.port.map { "\(host):\($0)" } ?? host
        guard hosts.contains(where: { $0.lowercased() == host || $0.lowercased() == withPort }) else { return nil }
        return text
    }

    /// `localhost`, `::1` or an address in 127.0.0.0/8.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
