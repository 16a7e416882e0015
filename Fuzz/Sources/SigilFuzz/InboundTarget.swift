import Foundation
import SigilCore
import SigilModel

@testable import SigilService

/// `inbound`: what callers of the service present. The input is split at its first newline: the
/// first line is tried as an `Authorization: Basic` value, as an API key, and as an identity URL
/// (against the allowlist in the rest of the input, one host a line). An accepted Basic header
/// must round-trip: encoding its user and password again gives back the same pair. The whole input
/// is also parsed as a posted form (the pages' and SAML's): a form it accepts encodes and parses
/// back to the same fields. The first line is also read as a signed request's URL is for its use
/// record (host and path only).
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
        if let form = try? InboundForm(parsing: input) {
            func bytes(_ value: SecretBytes?) -> [UInt8] {
                value?.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [UInt8] in [UInt8](raw) } ?? []
            }
            let names = form.names.sorted()
            guard names.count <= InboundForm.maximumFields, input.count <= InboundForm.maximumBytes else {
                FuzzCheck.fail("a form beyond its bounds was accepted")
            }
            var encoded: [UInt8] = []
            for name in names {
                if !encoded.isEmpty { encoded.append(UInt8(ascii: "&")) }
                encoded +=
                    PercentEncoding.encode(Array(name.utf8)) + [UInt8(ascii: "=")]
                    + PercentEncoding.encode(bytes(form.secret(name)))
            }
            // Encoding may triple a field's length: a form near the size bound may not fit again.
            if encoded.count <= InboundForm.maximumBytes {
                guard let again = try? InboundForm(parsing: encoded), again.names.sorted() == names,
                    names.allSatisfy({ bytes(again.secret($0)) == bytes(form.secret($0)) })
                else {
                    FuzzCheck.fail("an accepted form does not read back as the same fields")
                }
            }
        }
        if let id = Array(first.utf8).withUnsafeBytes({ InboundCredentials.apiKeyID($0) }) {
            guard id.utf8.count == 16, first.hasPrefix(InboundCredentials.apiKeyPrefix + id + "_") else {
                FuzzCheck.fail("an API key id that is not the key's 16 hex digits")
            }
        }
        // The first line as a signing request's URL, as its use record keeps it: host and path,
        // never the query, the fragment or user information.
        let target = UseTarget(url: first)
        guard !target.path.isEmpty, !target.path.contains("?"), !target.path.contains("#"),
            !target.host.contains("@"), !target.host.contains("/")
        else {
            FuzzCheck.fail("a use record's host or path keeps part of the query, fragment or user information")
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
