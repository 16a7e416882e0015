import SigilCore

/// Where a secret version lives, as its sealed blob's additional data binds it:
/// owner kind, owner row id, field and version.
struct SecretLocation: Hashable {
    var ownerKind: String
    var ownerID: Int64
    var field: String
    var version: Int

    init(ownerKind: String, ownerID: Int64, field: String, version: Int) {
        self.ownerKind = ownerKind
        self.ownerID = ownerID
        self.field = field
        self.version = version
    }

    init(row: SQLRow) {
        self.init(ownerKind: row["owner_kind"], ownerID: row["owner_id"], field: row["field"], version: row["version"])
    }

    var context: SealContext {
        SealContext(purpose: "secret", components: [ownerKind, String(ownerID), field, String(version)])
    }
}
