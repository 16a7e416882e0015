import BenchmarkSupport
import Foundation
import SigilSigning

/// `sigv4-workload N`: signs the five requests N times each, prints the Authorization of each once
/// (so the three signers can be checked to agree) and the wall time per signature.
@main
struct Main {
    static func main() {
        let rounds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 10_000
        let items = SigV4Workload.items()
        var check = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds {
            for item in items {
                check &+= SigV4Workload.sign(item).headers.count
            }
        }
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        for item in items {
            print(SigV4Workload.sign(item).headers.last!.value)
        }
        print("sigil ns/signature \(elapsed / UInt64(max(rounds * items.count, 1))) (check \(check))")
    }
}
