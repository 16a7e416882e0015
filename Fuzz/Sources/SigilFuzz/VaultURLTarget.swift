import Foundation
import SigilCore

@testable import SigilStore

/// A vault location's `postgres://` URL (from `--vault`, `SIGIL_VAULT` or `sigil vault copy`), as
/// `PostgresURL` reads it. Properties: an accepted URL names a host and a database; plain TCP only
/// on loopback; and the password, as Foundation parses it, never shows in the redacted form or in the
/// error a refused URL gets.
enum VaultURLTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let text = input.text
        // The password as a reader of the URL would take it (at least 4 characters, so that it is
        // not found by chance in a few bytes). What is shown may hold it only as often as the text
        // before `//`, after the URL's last `@` and the user name do (a password that is also a database's name
        // is not a leak of the password).
        let password = URLComponents(string: text)?.percentEncodedPassword.flatMap { $0.count >= 4 ? $0 : nil }
        func count(_ text: Substring) -> Int {
            guard let password else { return 0 }
            return text.components(separatedBy: password).count - 1
        }
        let beforeUser = text.range(of: "//").map { text[..<$0.upperBound] } ?? ""
        let afterUser = text.lastIndex(of: "@").map { text[$0...] } ?? Substring(text)
        let user = URLComponents(string: text)?.percentEncodedUser ?? ""
        func leaks(_ shown: String) -> Bool {
            password != nil && count(Substring(shown)) > count(beforeUser) + count(afterUser) + count(Substring(user))
        }
        do {
            let url = try PostgresURL(text)
            // A database's name may hold any character, `/` too when escaped (`%2F`).
            if url.host.isEmpty || url.database.isEmpty {
                FuzzCheck.fail("accepted without a host or a database: \(text.debugDescription)")
            }
            if url.tls == .disable,
                !(url.host == "localhost" || url.host == "::1" || url.host.hasPrefix("127."))
            {
                FuzzCheck.fail("plain TCP to a host off loopback: \(url.host.debugDescription)")
            }
            if leaks(url.redacted) { FuzzCheck.fail("the redacted URL shows the password") }
        } catch is SigilError {
            // The message is fixed words and the redacted URL (the words may hold any password text).
            if leaks(PostgresURL.redact(text)) { FuzzCheck.fail("the error shows the password") }
        } catch {
            FuzzCheck.fail("an error that is not a SigilError: \(type(of: error))")
        }
    }
}
