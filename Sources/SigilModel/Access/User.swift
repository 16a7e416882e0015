/// Someone who acts through Sigil, and the groups they belong to.
public struct User: Sendable, Hashable {
    public var name: String
    public var groups: [String]

    public init(name: String, groups: [String] = []) {
        self.name = name
        self.groups = groups
    }
}
