import Crypto
import SigilCore
import Synchronization

/// Derived signing keys (`HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service),
/// "aws4_request")`), cached per access key, day, region and service. An entry remembers the
/// secret it came from, so a rotated secret under the same access key id is never served a stale
/// key. Lookups do not allocate.
public final class SigningKeyCache: Sendable {
    public static let shared = SigningKeyCache()

    private struct Entry {
        var accessKeyID: String
        var day: [UInt8]
        var region: String
        var service: String
        var secret: SecretBytes
        /// HMAC-SHA256 keyed with the derived signing key, before any data.
        var mac: HMAC<SHA256>
    }

    private let entries = Mutex<[Entry]>([])
    private let limit = 64

    public init() {}

    func keyedMAC(
        credentials: SigV4Signer.Credentials, day: UnsafeBufferPointer<UInt8>, region: String, service: String
    ) -> HMAC<SHA256> {
        let cached = entries.withLock { entries -> HMAC<SHA256>? in
            // Only the keyed MAC leaves the lock; the entry itself is not copied.
            guard
                let index = entries.firstIndex(where: {
                    $0.day.elementsEqual(day) && $0.service == service && $0.region == region
                        && $0.accessKeyID == credentials.accessKeyID
                }),
                entries[index].secret == credentials.secretAccessKey
            else { return nil }
            return entries[index].mac
        }
        if let cached { return cached }
        let seed = SecretBytes(utf8: "AWS4").appending(credentials.secretAccessKey)
        var key = seed.withUnsafeBytes {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: day, using: SymmetricKey(data: $0)))
        }
        for part in [region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        let mac = HMAC<SHA256>(key: key)
        let entry = Entry(
            accessKeyID: credentials.accessKeyID, day: Array(day), region: region, service: service,
            secret: credentials.secretAccessKey, mac: mac)
        entries.withLock { entries in
            entries.removeAll {
                $0.day.elementsEqual(day) && $0.service == service && $0.region == region
                    && $0.accessKeyID == credentials.accessKeyID
            }
            if entries.count >= limit { entries.removeFirst() }
            entries.append(entry)
        }
        return mac
    }
}
