import Crypto
import Foundation
import SigilCore
@_spi(Benchmarking) import SigilSigning

/// `jwt-workload ALG token|raw N`: N HMAC JWTs through `JWTSigner` (the "JWT <alg> token"
/// benchmark), or N raw swift-crypto HMACs over a message as long as the token's signing input
/// (the "raw signature" benchmark), for counting instructions with callgrind. Instructions per
/// token are the difference between two run lengths, so start-up cost cancels out.
@main
struct Main {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count == 3, let algorithm = JWTAlgorithm(rawValue: arguments[0]),
            let rounds = Int(arguments[2]),
            let keyLength = ["HS256": 32, "HS384": 48, "HS512": 64][arguments[0]]
        else {
            print("usage: jwt-workload HS256|HS384|HS512 token|raw N")
            return
        }
        let material = SecretBytes.random(count: keyLength)
        let signer = try JWTSigner(algorithm: algorithm, key: material)
        let claims = [(name: "iss", value: "client"), (name: "aud", value: "https://api.example.com")]
        let date = Date()
        let sample = try signer.token(claims: claims, at: date)
        let message = [UInt8](
            repeating: 0x61, count: sample.utf8.count - 1 - sample.split(separator: ".").last!.utf8.count)
        let key = material.withUnsafeBytes { SymmetricKey(data: $0) }
        var sink = 0
        let start = DispatchTime.now().uptimeNanoseconds
        switch arguments[1] {
        case "token":
            for _ in 0..<rounds { sink &+= try signer.token(claims: claims, at: date).utf8.count }
        default:
            for _ in 0..<rounds {
                switch algorithm {
                case .hs384: sink &+= HMAC<SHA384>.authenticationCode(for: message, using: key).byteCount
                case .hs512: sink &+= HMAC<SHA512>.authenticationCode(for: message, using: key).byteCount
                default: sink &+= HMAC<SHA256>.authenticationCode(for: message, using: key).byteCount
                }
            }
        }
        print(
            "\(arguments[0]) \(arguments[1]) ns/op \((DispatchTime.now().uptimeNanoseconds - start) / UInt64(max(rounds, 1))) (\(sink))"
        )
    }
}
