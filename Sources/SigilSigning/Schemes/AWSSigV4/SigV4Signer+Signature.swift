import Crypto
import SigilCore

/// Tasks 3 and 4: the signing key and the signature (AWS IAM User Guide, "Derive a signing key",
/// "Calculate the signature"): `hex(HMAC(signing key, string to sign))`, the signing key derived once
/// per access key, day, region and service (``SigningKeyCache``).
extension SigV4Signer {
    /// Builds the string to sign for `canonicalRequest` on the stack and writes the signature.
    func writeSignature(to writer: inout ByteWriter, canonicalRequest: [UInt8], time: AmzTime, trace: SigningTrace?) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stringToSignByteCount) { buffer in
            var toSign = ByteWriter(buffer)
            writeStringToSign(canonicalRequest: canonicalRequest, time: time, to: &toSign)
            let stringToSign = UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[..<toSign.count])
            if let trace {
                trace.canonicalRequest(String(decoding: canonicalRequest, as: UTF8.self))
                trace.step("SigV4 string to sign", "\n" + String(decoding: stringToSign, as: UTF8.self))
            }
            writeSignature(of: stringToSign, time: time, to: &writer)
        }
    }

    /// Writes the 64 hex digits of the signature of `stringToSign`.
    func writeSignature(of stringToSign: UnsafeRawBufferPointer, time: AmzTime, to writer: inout ByteWriter) {
        // A copy of the cached, already keyed HMAC: the key's pads are not recomputed per request.
        var mac = time.withDay {
            keyCache.keyedMAC(credentials: credentials, day: $0, region: region, service: service)
        }
        mac.update(data: stringToSign)
        mac.finalize().withUnsafeBytes { writer.writeHex($0) }
    }
}
