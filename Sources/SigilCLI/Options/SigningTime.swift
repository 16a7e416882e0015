import ArgumentParser
import Foundation
import SigilSigning

/// `--at`: the instant to sign as of (reproducible tests, presigning ahead), now when absent.
enum SigningTime {
    static func parse(_ text: String?) throws -> Date {
        guard let text else { return Date() }
        guard let date = SigningInstant.parse(text) else {
            throw ValidationError(
                "--at \(text): expected an ISO 8601 instant from 1970 to 9999, such as 2015-08-30T12:36:00Z")
        }
        return date
    }
}
