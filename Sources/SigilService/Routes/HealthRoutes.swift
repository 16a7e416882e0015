import Foundation
import Hummingbird
import SigilOperations
import SigilStore

/// `GET /healthz` (the process answers), `GET /readyz` (the vault is open, its schema current and
/// its catalog authentic), `GET /metrics` (Prometheus text, for operators) and `GET /openapi.json`.
enum HealthRoutes {
    static func add(to routes: inout RouteTable, state: ServiceState) {
        routes.add(.get, "/healthz", .anyone) { _, _ in
            try JSONResponse.make(["status": "ok"], noStore: true)
        }
        routes.add(.get, "/readyz", .anyone) { _, _ in
            do {
                let version = try state.vault.schemaVersion()
                guard version == Schema.latestVersion else {
                    return try JSONResponse.make(
                        [
                            "status": "not ready",
                            "reason": "the vault's schema is version \(version), not \(Schema.latestVersion)",
                        ],
                        status: .serviceUnavailable)
                }
                _ = try state.vault.catalog()
                return try JSONResponse.make(["status": "ready"])
            } catch {
                return try JSONResponse.make(
                    ["status": "not ready", "reason": "the vault cannot be read: \(outcome(of: error))"],
                    status: .serviceUnavailable)
            }
        }
        routes.add(.get, "/metrics", .operator) { _, _ in
            // The expiry calendar as gauges, read at each scrape (what `sigil expiry` lists).
            if let entries = try? ExpiryCalendar.entries(
                in: state.vault, within: 10 * 365 * 86_400, now: state.clock())
            {
                state.metrics.expiry(
                    entries.compactMap { entry in
                        (try? Date(entry.when, strategy: .iso8601)).map { (entry.what, entry.item, $0) }
                    })
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: state.metrics.exposition())))
        }
        routes.add(.get, "/openapi.json", .anyone) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }
}
