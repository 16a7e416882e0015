public import Foundation

/// The instant a request is signed as of, when the caller gives one (`sigil sign --at`, the
/// service's `"at"`): ISO 8601, from 1970 to 9999. SigV4's `X-Amz-Date` and a JWT's NumericDate
/// hold no others (before 1582 the calendar itself changes).
public enum SigningInstant {
    public static let earliest = Date(timeIntervalSince1970: 0)
    public static let latest = try! Date("9999-12-31T23:59:59Z", strategy: .iso8601)

    /// The instant `text` names, or `nil` when it is not ISO 8601 or is outside 1970 to 9999.
    public static func parse(_ text: String) -> Date? {
        guard let date = try? Date(text, strategy: .iso8601), (earliest...latest).contains(date) else { return nil }
        return date
    }
}
