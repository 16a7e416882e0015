import Foundation
import SigilCore

@testable import AsyncHTTPClient
@testable import SigilModel
@testable import SigilSigning

#if canImport(Glibc)
import Glibc
#endif

/// What async-http-client puts on the wire for `url`: its own `DeconstructedURL` (the scheme, the
/// host and port it connects to, the request-target it writes), reached with `@testable`. The
/// request-target comes from Foundation (`URL.uri` in HTTPHandler.swift: percentEncodedPath, `/`
/// when Foundation's decoded path is empty, then `?query`). `nil` when the client refuses the URL.
struct WireURL {
    var scheme: String
    var host: String
    var port: Int
    /// Whether the client connects to an address parsed from the URL (no name resolution).
    var isAddress: Bool
    var requestTarget: String

    init?(_ text: String) {
        guard let url = try? DeconstructedURL(url: text) else { return nil }
        scheme = url.scheme.rawValue
        switch url.connectionTarget {
        case .ipAddress(let serialization, let address):
            host = serialization.lowercased()
            port = address.port ?? -1
            isAddress = true
        case .domain(let name, let port):
            host = name.lowercased()
            self.port = port
            isAddress = false
        case .unixSocket:
            return nil
        }
        requestTarget = url.uri
    }
}

/// What follows the origin in `url` (an origin Sigil wrote), as Sigil checked it: `/` when empty.
func checkedTarget(_ url: String, origin: String) -> String {
    let rest = url.dropFirst(origin.count)
    if rest.isEmpty { return "/" }
    return rest.hasPrefix("?") ? "/" + rest : String(rest)
}

/// The path as a server normalises it (RFC 3986 section 5.2.4 after decoding the escapes once;
/// `\` taken as `/` and `;params` dropped, as some servers do): its segments.
func serverSegments(_ path: Substring) -> [[UInt8]] {
    var decoded: [UInt8] = []
    let bytes = Array(path.utf8)
    var index = 0
    while index < bytes.count {
        if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
            let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
        {
            decoded.append(high << 4 | low)
            index += 3
        } else {
            decoded.append(bytes[index])
            index += 1
        }
    }
    var segments: [[UInt8]] = []
    for raw in decoded.split(
        omittingEmptySubsequences: false, whereSeparator: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }
    ).dropFirst() {
        let name = Array(raw.prefix { $0 != UInt8(ascii: ";") })
        if name == [UInt8(ascii: ".")] { continue }
        if name == [UInt8(ascii: "."), UInt8(ascii: ".")] {
            if !segments.isEmpty { segments.removeLast() }
            continue
        }
        segments.append(Array(raw))
    }
    return segments
}

/// The value of a hexadecimal digit (either case).
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
}

extension WireURL {
    /// Whether the client connects to `endpoint`'s scheme, host and port.
    func isAt(_ endpoint: EndpointURL) -> Bool {
        scheme == endpoint.scheme && host == endpoint.host
            && port == (endpoint.port ?? (endpoint.scheme == "https" ? 443 : 80))
    }
}

/// `callout-url`: the URL of `sigil sign`/`call` (`callout:NAME/path?query`, or an absolute URL
/// under a named credential's base URL), resolved by the engine's routes. On a URL Sigil accepts:
/// - async-http-client must send, as the request-target, exactly the path and query Sigil checked
///   (and signed), to the endpoint's scheme, host and port;
/// - the path, normalised as a server would, must stay under the base URL's path.
enum CalloutTarget {
    static let routes: Routes = {
        let urls = [
            ("Api", "https://api.example.com/v1"),
            ("Admin", "https://api.example.com/v1/admin"),
            ("Root", "https://root.example.com"),
            ("Local", "http://127.0.0.1:8443/base/path;v=1"),
            ("Six", "https://[::1]:9443/x%20y"),
        ]
        let catalog = Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Ext", authProtocol: .none, principals: [Principal(name: "p", type: .named, sequence: 1)])
            ],
            namedCredentials: urls.map {
                NamedCredential(name: $0.0, url: $0.1, externalCredential: "Ext", generateAuthorizationHeader: false)
            }
        )
        let source = MemoryCredentials(catalog: catalog)
        let routes = Routes(CatalogSnapshot(catalog), source: source)
        for (name, _) in urls {
            guard let route = routes.route(named: name), case .success = route.base else {
                FuzzCheck.fail("callout-url: base URL of \(name) is invalid")
            }
        }
        return routes
    }()

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        // What a per-request read narrows the catalog by: it must parse any input, and an absolute
        // URL that resolves must have its named credential's host (else that read would miss it).
        let scopeHost = CatalogScope.host(of: input.text)
        let resolution: Callout.Resolution
        do {
            resolution = try Callout.resolve(input.text, in: routes)
        } catch {
            return
        }
        if !input.text.hasPrefix("callout:"),
            scopeHost != CatalogScope.host(of: resolution.route.namedCredential.url)
        {
            FuzzCheck.fail(
                "callout-url: \(input.text.debugDescription) resolves to \(resolution.route.name), whose host a per-request read would not find by"
            )
        }
        let endpoint: EndpointURL
        do {
            endpoint = try EndpointURL(parsing: resolution.route.namedCredential.url)
        } catch {
            FuzzCheck.fail("callout-url: a route with an invalid base URL resolved")
        }
        let url = resolution.url
        guard url.hasPrefix(endpoint.description) else {
            FuzzCheck.fail("callout-url: \(url) is not under \(endpoint.description)")
        }
        let checked = checkedTarget(url, origin: endpoint.origin)
        // Foundation refusing the URL means the client refuses the request: nothing is sent.
        guard let wire = WireURL(url) else { return }
        if wire.requestTarget != checked {
            FuzzCheck.fail(
                "callout-url: Sigil checked and signed \(checked.debugDescription) but async-http-client sends \(wire.requestTarget.debugDescription) (input \(input.text.debugDescription))"
            )
        }
        if !wire.isAt(endpoint) {
            FuzzCheck.fail(
                "callout-url: \(url.debugDescription) goes to \(wire.scheme)://\(wire.host):\(wire.port), not \(endpoint.origin)"
            )
        }
        let path = checked.prefix { $0 != "?" }
        let base = serverSegments(endpoint.path[...])
        if !serverSegments(path).starts(with: base) {
            FuzzCheck.fail(
                "callout-url: \(path.debugDescription), normalised by a server, leaves the base path \(endpoint.path.debugDescription)"
            )
        }
    }
}

/// `endpoint-url`: a named credential's base URL (`EndpointURL(parsing:)`). On a URL Sigil accepts:
/// its normal form reads back as itself; Foundation (under async-http-client) sees the same scheme,
/// host, port and path; plain http goes to an address that getaddrinfo takes as a loopback address
/// without asking DNS.
enum EndpointURLTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let endpoint: EndpointURL
        do {
            endpoint = try EndpointURL(parsing: input.text)
        } catch {
            return
        }
        let normal = endpoint.description
        do {
            let again = try EndpointURL(parsing: normal)
            if again != endpoint {
                FuzzCheck.fail(
                    "endpoint-url: \(normal.debugDescription) reads back as \(again.description.debugDescription)")
            }
        } catch {
            FuzzCheck.fail("endpoint-url: the normal form \(normal.debugDescription) is refused: \(error)")
        }
        if let wire = WireURL(normal) {
            let path = endpoint.path.isEmpty ? "/" : endpoint.path
            if wire.requestTarget != path || !wire.isAt(endpoint) {
                FuzzCheck.fail(
                    "endpoint-url: \(normal.debugDescription) is sent as \(wire.scheme)://\(wire.host):\(wire.port) \(wire.requestTarget.debugDescription)"
                )
            }
            // Plain http only to loopback: an address the client parses, or one that getaddrinfo
            // reads as numeric (inet_aton) without asking DNS, or localhost.
            if endpoint.scheme == "http" && !wire.isAddress && wire.host != "localhost" {
                var address = in_addr()
                guard inet_aton(wire.host, &address) != 0 else {
                    FuzzCheck.fail(
                        "endpoint-url: plain http to \(wire.host.debugDescription), a name the client resolves with DNS"
                    )
                }
                if UInt32(bigEndian: address.s_addr) >> 24 != 127 {
                    FuzzCheck.fail(
                        "endpoint-url: plain http to \(wire.host.debugDescription), which getaddrinfo reads as a non-loopback address"
                    )
                }
            }
        }
    }
}

/// An in-memory credential source (no vault): routes need one, and nothing here reads secrets.
struct MemoryCredentials: CredentialSource {
    let snapshotValue: CatalogSnapshot

    init(catalog: Catalog) {
        snapshotValue = CatalogSnapshot(catalog)
    }

    func catalog() throws -> Catalog { snapshotValue.catalog }
    func snapshot() throws -> CatalogSnapshot { snapshotValue }
    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? { nil }
    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> { [] }
}
