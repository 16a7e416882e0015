import Foundation
import SigilCore
import SigilModel

/// `inbound`: what callers of the service present. The input is split at its first newline: the
/// first line is tried as an `Authorization: Basic` value, as an API key, and as an identity URL
/// (against the allowlist in the rest of the input, one host a line). An accepted Basic header
/// must round-trip: encoding its user and password again gives back the same pair. The whole input
/// is also parsed as a posted form (the pages' and SAML's): a form it accepts encodes and parses
/// back to the same fields.
enum InboundTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let text = input.text
        let first = String(text.prefix { $0 != "\n" })
        let hosts = text.split(separator: "\n").dropFirst().map(String.init)
        if let (user, password) = InboundCredentials.basic(first) {
            let again = password.withUnsafeBytes {
                "Basic " + (Data(user.utf8) + Data([0x3A]) + Data($0)).base64EncodedString()
            }
            guard let parsed = InboundCredentials.basic(again), parsed.user == user, parsed.password == password else {
                FuzzCheck.fail("an accepted Basic header does not read back as the same user and password")
            }
        }
        if let form = try? InboundForm(parsing: UnsafeBufferPointer(input)) {
            let fields = form.names.sorted().map { name in
                (name: name, value: form.secret(name).map { $0.withUnsafeBytes { Array($0) } } ?? [])
            }
            guard fields.count <= InboundForm.maximumFields, input.count <= InboundForm.maximumBytes else {
                FuzzCheck.fail("a form beyond its bounds was accepted")
            }
            let encoded = fields.map { field in
                PercentEncoding.encode(Array(field.name.utf8)) + [UInt8(ascii: "=")]
                    + PercentEncoding.encode(field.value)
            }.joined(separator: [UInt8(ascii: "&")])
            guard let again = try? InboundForm(parsing: Array(encoded)), again.names.sorted() == fields.map(\.name),
                fields.allSatisfy({ field in
                    (again.secret(field.name).map { $0.withUnsafeBytes { Array($0) } } ?? []) == field.value
                })
            else {
                FuzzCheck.fail("an accepted form does not read back as the same fields")
            }
        }
        if let id = Array(first.utf8).withUnsafeBytes({ InboundCredentials.apiKeyID($0) }) {
            guard id.utf8.count == 16, first.hasPrefix(InboundCredentials.apiKeyPrefix + id + "_") else {
                FuzzCheck.fail("an API key id that is not the key's 16 hex digits")
            }
        }
        if let url = InboundCredentials.identityURL(first, allowedHosts: hosts) {
            guard let host = URLComponents(string: url)?.host?.lowercased(),
                hosts.contains(where: { $0.lowercased() == host || $0.lowercased().hasPrefix(host + ":") })
            else {
                FuzzCheck.fail("an identity URL accepted on a host that is not allowed")
            }
        }
    }
}
