/// What one request needs of a catalog: the URL it targets (`callout:NAME/...` or an absolute URL)
/// and the user it acts for (`nil`: the vault's operator).
public struct CatalogScope: Sendable, Hashable {
    public var url: String
    public var user: String?

    public init(url: String, user: String?) {
        self.url = url
        self.user = user
    }

    /// NAME of `callout:NAME/path?query`, or `nil` for any other URL.
    public var calloutName: String? {
        guard url.hasPrefix("callout:") else { return nil }
        return String(url.dropFirst(8).prefix { $0 != "/" && $0 != "?" })
    }

    /// The host of an absolute URL (`https://user@Host:8443/path` gives `host`), lowercased, or
    /// `nil` when `url` has none: the named credentials whose base URL has the same host are those
    /// it may target.
    public var host: String? { Self.host(of: url) }

    /// The host of `url` as ``host`` finds it.
    public static func host(of url: String) -> String? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != "\\" }
        var host = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? authority
        if host.hasPrefix("[") {
            host = host.prefix { $0 != "]" } + "]"
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return host.isEmpty ? nil : host.lowercased()
    }
}
