namespace CapiMiddleware.Hashing;

/// <summary>The hashed <c>user_data</c> fields of a Conversions API event.</summary>
internal enum UserDataField
{
    Email,
    Phone,
    FirstName,
    LastName,
    Gender,
    DateOfBirth,
    City,
    State,
    Zip,
    Country,
    ExternalId,
}

internal static class UserDataFieldExtensions
{
    /// <summary>The key of the field in the <c>user_data</c> object sent to Meta.</summary>
    public static string WireName(this UserDataField field) => field switch
    {
        UserDataField.Email => "em",
        UserDataField.Phone => "ph",
        UserDataField.FirstName => "fn",
        UserDataField.LastName => "ln",
        UserDataField.Gender => "ge",
        UserDataField.DateOfBirth => "db",
        UserDataField.City => "ct",
        UserDataField.State => "st",
        UserDataField.Zip => "zp",
        UserDataField.Country => "country",
        UserDataField.ExternalId => "external_id",
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, "Unknown user_data field."),
    };
}
