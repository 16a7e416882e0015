import ArgumentParser
import Foundation

/// `--at`: the instant to sign as of (reproducible tests, presigning ahead), now when absent.
enum SigningTime {
    static func parse(_ text: String?) throws -> Date {
        guard let text else { return Date() }
        guard let date = try? Date(text, strategy: .iso8601) else {
            throw ValidationError("--at \(text): expected an ISO 8601 instant such as 2015-08-30T12:36:00Z")
        }
        return date
    }
}
