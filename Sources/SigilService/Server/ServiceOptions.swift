public import Foundation
public import SigilCore
import SigilModel
import SigilSigning

/// How `sigil serve` listens: the address, TLS, and where to say it is ready.
public struct ServiceOptions: Sendable {
    /// The host to bind (an IP address or `localhost`).
    public var host: String
    /// The port; 0 picks a free one (the ready file says which).
    public var port: Int
    /// PEM files of the server's certificate chain and private key; both or neither.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Where to write `{"pid": ..., "url": ...}` once connections are accepted.
    public var readyFile: String?
    /// The service's URL as browsers reach it, when that is not the listening URL (behind a proxy
    /// or load balancer): the OAuth callback is this URL's `/oauth/callback`, and an https URL
    /// makes the cookies Secure.
    public var publicURL: String?
    /// How often due rotations are looked for and run (`nil`: never, by this process).
    public var rotationInterval: Swift.Duration? = .seconds(300)
    /// Over how many seconds principals that fall due together are spread.
    public var rotationSpread: TimeInterval = 3600

    public static let defaultListen = "127.0.0.1:7390"

    /// Parses `--listen HOST:PORT` (an IPv6 host in brackets). Plain HTTP is refused on any address
    /// but loopback: callers send passwords and API keys, and get decorated requests back.
    public init(
        listen: String = defaultListen, tlsCertificate: String? = nil, tlsKey: String? = nil, readyFile: String? = nil,
        publicURL: String? = nil
    )
        throws(SigilError)
    {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw SigilError(
                .invalidRequest, "--listen \(listen.sanitizedForMessage): expected HOST:PORT, such as 127.0.0.1:7390")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw SigilError(.invalidRequest, "--listen \(listen.sanitizedForMessage): the host is missing")
        }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw SigilError(.invalidRequest, "--tls-cert and --tls-key go together")
        }
        if tlsCertificate == nil && !InboundCredentials.isLoopback(host) {
            throw SigilError(
                .invalidRequest,
                "--listen \(listen.sanitizedForMessage): plain HTTP is only for loopback (127.0.0.1, ::1, localhost); give --tls-cert and --tls-key to listen on another address"
            )
        }
        self.host = host
        self.port = port
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.readyFile = readyFile
        if let publicURL {
            let trimmed = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
            guard let origin = PageRenderer.origin(of: trimmed), origin == trimmed else {
                throw SigilError(
                    .invalidRequest,
                    "--public-url \(publicURL.sanitizedForMessage): expected an http(s) origin such as https://sigil.example.com"
                )
            }
            guard
                trimmed.hasPrefix("https:") || InboundCredentials.isLoopback(URLComponents(string: trimmed)?.host ?? "")
            else {
                throw SigilError(
                    .invalidRequest,
                    "--public-url \(publicURL.sanitizedForMessage): browsers send session cookies to it, so it must be https (http only on loopback)"
                )
            }
            self.publicURL = trimmed
        }
    }
}
