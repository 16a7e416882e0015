import Foundation

/// The signing instant in SigV4's forms.
struct AmzTime {
    /// `YYYYMMDDTHHMMSSZ`.
    let timestampBytes: [UInt8]
    private let year: Int, month: Int, dayOfMonth: Int, hour: Int, minute: Int, second: Int
    /// 0 is Sunday.
    private let weekday: Int

    var timestamp: String { String(decoding: timestampBytes, as: UTF8.self) }
    /// Calls `body` with `YYYYMMDD`.
    func withDay<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        timestampBytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<8])) }
    }

    init(_ date: Date) {
        // UTC calendar fields by arithmetic rather than gmtime_r, which takes glibc's time zone lock
        // and reads TZ on every call. Days to civil date: Howard Hinnant's `civil_from_days`
        // (proleptic Gregorian, eras of 400 years), https://howardhinnant.github.io/date_algorithms.html
        let seconds = Int(floor(date.timeIntervalSince1970))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60
        weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        let shifted = days + 719_468  // days since 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0...11, from March
        dayOfMonth = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        var bytes = [UInt8](repeating: 0, count: 16)
        func put(_ value: Int, _ digits: Int, at offset: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(year, 4, at: 0)
        put(month, 2, at: 4)
        put(dayOfMonth, 2, at: 6)
        bytes[8] = UInt8(ascii: "T")
        put(hour, 2, at: 9)
        put(minute, 2, at: 11)
        put(second, 2, at: 13)
        bytes[15] = UInt8(ascii: "Z")
        timestampBytes = bytes
    }

    /// The `Date` header botocore writes (`email.utils.formatdate`): RFC 2822 with `-0000`.
    var httpDate: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return
            "\(days[weekday]), \(two(dayOfMonth)) \(months[month - 1]) \(year) \(two(hour)):\(two(minute)):\(two(second)) -0000"
    }
}
