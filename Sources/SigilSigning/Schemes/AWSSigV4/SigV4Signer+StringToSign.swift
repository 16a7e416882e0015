import Crypto
import SigilCore

/// Task 2: the string to sign (AWS IAM User Guide, "Create a string to sign"):
/// `AWS4-HMAC-SHA256 \n timestamp \n scope \n hex(SHA-256(canonical request))`.
extension SigV4Signer {
    /// `day/region/service/aws4_request`.
    var scopeByteCount: Int { 8 + 1 + region.utf8.count + 1 + service.utf8.count + 1 + 12 }

    /// The length of the string to sign.
    var stringToSignByteCount: Int { Self.algorithm.utf8.count + 1 + 16 + 1 + scopeByteCount + 1 + 64 }

    func writeScope(to writer: inout ByteWriter, time: AmzTime) {
        time.withDay { writer.write($0) }
        writer.write(UInt8(ascii: "/"))
        writer.write(region)
        writer.write(UInt8(ascii: "/"))
        writer.write(service)
        writer.write("/aws4_request" as StaticString)
    }

    /// Writes the string to sign for `canonicalRequest` (``stringToSignByteCount`` bytes).
    func writeStringToSign(canonicalRequest: [UInt8], time: AmzTime, to writer: inout ByteWriter) {
        var hasher = SHA256()
        canonicalRequest.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let digest = hasher.finalize()
        writer.write(Self.algorithm)
        writer.write(0x0A)
        writer.write(time.timestampBytes)
        writer.write(0x0A)
        writeScope(to: &writer, time: time)
        writer.write(0x0A)
        digest.withUnsafeBytes { writer.writeHex($0) }
    }
}
