import BenchmarkSupport
import Foundation
import SigilSigning

/// `sigv4-workload N`: signs the five requests N times each, prints the Authorization of each once
/// (so the three signers can be checked to agree) and the wall time per signature.
///
/// `sigv4-workload N engine`: the same requests through the engine's whole decorate on a real
/// sealed vault (``EngineVault``), with the wall time per request.
@main
struct Main {
    // Synchronous, waiting on a semaphore for the engine's run: valgrind cannot run dispatch's
    // async main.
    static func main() throws {
        let rounds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 10_000
        if CommandLine.arguments.dropFirst(2).first == "engine" {
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var failure: (any Error)?
            Task.detached {
                do { try await engine(rounds: rounds) } catch { failure = error }
                done.signal()
            }
            done.wait()
            if let failure { throw failure }
            return
        }
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

    static func engine(rounds: Int) async throws {
        let (engine, requests, directory) = try EngineVault.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // One warm-up pass: the routes, the secrets and the signing keys are prepared once.
        for request in requests { _ = try await engine.decorate(request, at: SigV4Workload.date) }
        var check = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds {
            for request in requests {
                check &+= try await engine.decorate(request, at: SigV4Workload.date).headers.count
            }
        }
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        print("sigil-engine ns/signature \(elapsed / UInt64(max(rounds * requests.count, 1))) (check \(check))")
    }
}
