import Foundation
import Testing

@testable import SigilSigning

@Suite("SigV4: timestamps by arithmetic")
struct AmzTimeTests {
    @Test("AmzTime's calendar fields equal gmtime's, 1900 to 2400, leap days and the day before 1970 included")
    func matchesGmtime() {
        var random = SplitMix64(state: 1_440_938_160)
        var instants: [Int] = [
            0, -1, -86_400, -86_401, 951_782_400, 951_868_799, 4_107_542_399, 1_440_938_160, 253_402_300_799,
        ]
        // 1900-01-01 to 2400-01-01.
        for _ in 0..<20_000 { instants.append(Int(random.next() % 15_778_800_000) - 2_208_988_800) }
        for seconds in instants {
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let expected = String(
                format: "%04d%02d%02dT%02d%02d%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                parts.tm_hour, parts.tm_min, parts.tm_sec)
            let amz = AmzTime(Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(amz.timestamp == expected, "\(seconds)")
            let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
            #expect(amz.httpDate.hasPrefix(days[Int(parts.tm_wday)] + ", "), "\(seconds)")
        }
    }
}
