import Crypto
import Foundation
import SigilCore
import SigilModel

extension MergeFunction {
    /// The most bytes `apply` can return for `arguments`, worked out without applying it.
    func outputBound(_ arguments: [[UInt8]]) -> Int {
        switch self {
        case .base64Encode: (arguments[0].count + 2) / 3 * 4
        case .urlEncode: arguments[0].count * 3
        case .hex: arguments[0].count * 2
        case .hash, .hmac: 64
        }
    }

    func apply(_ arguments: [[UInt8]], position: Int) throws(MergeFieldError) -> [UInt8] {
        switch self {
        case .base64Encode:
            return Array(Data(arguments[0]).base64EncodedString().utf8)
        case .urlEncode:
            return PercentEncoding.encode(arguments[0])
        case .hex:
            return Array(Hex.encode(arguments[0]).utf8)
        case .hash:
            return HashAlgorithm(rawValue: String(decoding: arguments[0], as: UTF8.self))!.digest(arguments[1])
        case .hmac:
            return HashAlgorithm(rawValue: String(decoding: arguments[0], as: UTF8.self))!.mac(
                arguments[1], key: arguments[2])
        }
    }
}

/// The digests merge fields offer, from swift-crypto.
extension HashAlgorithm {
    func digest(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(Insecure.SHA1.hash(data: data))
        case .sha256: Array(SHA256.hash(data: data))
        case .sha384: Array(SHA384.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }

    func mac(_ data: [UInt8], key: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        return switch self {
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha384: Array(HMAC<SHA384>.authenticationCode(for: data, using: key))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }
}
