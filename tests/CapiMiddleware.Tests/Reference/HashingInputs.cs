using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CapiMiddleware.Hashing;

namespace CapiMiddleware.Tests.Reference;

/// <summary>The kinds of input issue 4 asks the differential suite to cover.</summary>
internal enum InputCategory
{
    Plain,
    Case,
    SurroundingWhitespace,
    InnerWhitespace,
    TabsAndNewlines,
    AsciiPunctuation,
    TypographicPunctuation,
    Accents,
    OtherScripts,
    FullWidthDigits,
    StateNames,
    CountryNames,
    DateFormats,
    GenderWords,
    Hashed,
    EmptyOrBlank,
    InvalidEmail,
    InvalidPhone,
}

internal readonly record struct HashingInput(UserDataField Field, InputCategory Category, string Value);

/// <summary>
/// Raw user-data values for the differential suite, generated deterministically (fixed seed): realistic values per
/// field, the values every field may receive (hashes, blanks, other scripts), and mutations of both (case, whitespace,
/// punctuation, accents, full-width digits). The same inputs on every run, on every machine.
/// </summary>
internal static class HashingInputs
{
    public const int Seed = 20_240_404;

    /// <summary>Inputs per field, seeds included.</summary>
    public const int PerField = 260;

    // Values are kept below the library's input cap (UserDataNormalizer.MaxInputLength), which drops longer values
    // unread on purpose; the reference would hash them. Not a category of issue 4, so not generated.
    private const int MaxLength = 200;

    private static readonly string[] SurroundingSpace =
    [
        " ", "   ", "\t", "\n", "\r\n", " \t\n ", "\u00A0", "\u2003", "\u3000", "\uFEFF", "\u202F", "\u2028",
        "\u0085", "\u200B", "\u180E", "\v", "\f",
    ];

    private static readonly string[] InnerSpace = [" ", "  ", "\u00A0", "\u2009", "\u3000", "\u200B", "\uFEFF", "\u0085"];

    private static readonly string[] TabsAndNewlines = ["\t", "\n", "\r", "\r\n", "\t\t", "\n\n", "\v", "\f"];

    private const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private static readonly string[] TypographicPunctuation =
    [
        "\u2019", "\u2018", "\u201C", "\u201D", "\u2013", "\u2014", "\u2026", "\u2022", "\u00B7", "\u00AB", "\u00BB",
        "\u2010", "\u2011", "\u2032", "\u00BF", "\u00A1", "\u3001", "\u3002", "\uFF0C", "\uFF0E", "\uFF0D", "\u00B4",
    ];

    private static readonly (char Plain, string Accented)[] Accents =
    [
        ('a', "áàâäãåā"), ('e', "éèêëē"), ('i', "íìîïı"), ('o', "óòôöõøō"), ('u', "úùûüū"), ('n', "ñń"), ('c', "çč"),
        ('s', "šßś"), ('z', "žź"), ('y', "ýÿ"), ('A', "ÁÀÂÄÃÅ"), ('E', "ÉÈÊË"), ('O', "ÓÖØ"), ('U', "ÚÜ"), ('I', "ÍÎİ"),
        ('S', "Šẞ"), ('K', "\u212A"),
    ];

    // Other scripts, with the casing corner cases Node's ICU and .NET could disagree on: Greek final sigma, Turkish
    // dotted I, titlecase digraphs, supplementary-plane case pairs (Deseret, Osage), Cherokee, ligatures.
    private static readonly string[] OtherScripts =
    [
        "Алексей", "МОСКВА", "ΟΔΥΣΣΕΥΣ", "Σίσυφος", "ΣΑΣ ΣΑΣ", "İSTANBUL", "ıiIİ", "東京", "李小龍", "محمد", "שלום",
        "मुंबई", "กรุงเทพ", "Հայաստան", "ႠႡႢ", "ᏣᎳᎩ", "ǅǈǋ", "\U00010400\U00010428", "\U000104B0", "ﬁﬂ", "Ωmega",
        "😀", "👩‍👩‍👧", "ÅNGSTRÖM", "ΐ", "Ǆ", "ꞫꞬ", "ᲐᲑᲒ",
    ];

    private static readonly string[] FirstNames =
    [
        "John", "Mary-Jane", "O'Brien", "José", "Zoë", "Ørsted", "Björn", "François", "Siobhán", "D\u2019Angelo",
        "Jean\u2013Luc", "Anne Marie", "van der Berg", "McDonald", "Dr. Smith", "J.R.R.", "Mr. Bean", "Ngô", "Đặng",
        "Nguyễn", "Łukasz", "Ægir", "Œdipe", "Straße", "Иван", "Αλέξανδρος", "Ἀθηνᾶ", "Ｊｏｈｎ", "john_doe", "Smith Jr.",
        "X Æ A-12", "K\u0301aren", "Ann\u0308a",
    ];

    private static readonly string[] Cities =
    [
        "New York", "San Francisco", "St. Louis", "Winston-Salem", "São Paulo", "Zürich", "München", "Kraków", "Reykjavík",
        "Los  Angeles", "Coeur d'Alene", "Martha's Vineyard", "Washington, D.C.", "4th City", "123 Main", "Köln",
        "Ho Chi Minh City", "Ελληνικό", "東京", "Москва", "القاهرة", "Saint-Étienne", "Ōsaka", "Ｔｏｋｙｏ", "Foo123",
    ];

    private static readonly string[] StateNames =
    [
        "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
        "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
        "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada",
        "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma",
        "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah",
        "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming", "Ontario", "Quebec", "Québec",
        "British Columbia", "Alberta", "Saskatchewan", "Manitoba", "Nova Scotia", "New Brunswick",
        "Prince Edward Island", "Newfoundland and Labrador", "Yukon", "Northwest Territories", "Nunavut",
        "District of Columbia", "Puerto Rico", "Bavaria", "Calif.", "N.Y.", "Tex", "State of Washington",
        "New York City", "Yukon Territory", "CA", "ny", "Tx", "QC", "on", "XX", "C", "NYC", "constructor", "toString",
        "__proto__", "valueOf",
    ];

    private static readonly string[] CountryNames =
    [
        "United States", "United States of America", "USA", "U.S.A.", "U.S.", "US", "us", "America", "Canada",
        "Mexico", "Germany", "Deutschland", "France", "United Kingdom", "UK", "Great Britain", "England", "Ireland",
        "Spain", "España", "Italy", "Japan", "日本", "China", "India", "Indiana", "Indonesia", "Brazil", "Brasil",
        "Russia", "Russian Federation", "Россия", "Korea, Republic of", "South Korea", "North Korea", "Viet Nam",
        "Vietnam", "Côte d\u2019Ivoire", "Cote d'Ivoire", "Ivory Coast", "Congo", "Democratic Republic of the Congo",
        "Sudan", "South Sudan", "Niger", "Nigeria", "Guinea", "Guinea-Bissau", "Equatorial Guinea", "Papua New Guinea",
        "Dominica", "Dominican Republic", "Samoa", "American Samoa", "Netherlands", "Holland", "Türkiye", "Turkey",
        "Czechia", "Czech Republic", "Burma", "Myanmar", "Georgia", "Jersey", "New Jersey", "Virgin Islands, U.S.",
        "Bolivia (Plurinational State of)", "Iran, Islamic Republic of", "Hong Kong", "Taiwan", "Åland Islands",
        "Curaçao", "Saint Barthélemy", "Réunion", "DE", "de", "GBR", "DEU", "JPN", "CAN", "XK", "ZZ", "U", "constructor",
        "toString", "__proto__", "valueOf", "hasOwnProperty",
    ];

    private static readonly string[] GenderWords =
    [
        "m", "f", "M", "F", "male", "Male", "MALE", "female", "Female", "man", "woman", "boy", "girl", "Mr", "Mrs", "Ms",
        "Miss", "sir", "madam", "gentleman", "lady", "guy", "gal", "husband", "wife", "boyfriend", "girlfriend", "king",
        "queen", "father", "mother", "son", "daughter", "uncle", "aunt", "nonbinary", "non-binary", "x", "other",
        "unknown", "n/a", "hombre", "mujer", "männlich", "weiblich", "femme", "homme", "mâle", "fem", "masc", "mf", "m/f",
        "f.", "Mr.", "M A L E", "malefemale", "females", "Man!", "GIRL?", "♂", "♀",
    ];

    private static readonly string[] Zips =
    [
        "94105", "94105-1234", "94105 1234", "02134", "SW1A 1AA", "sw1a1aa", "K1A 0B1", "75008", "75008 Paris",
        "100-0001", "1010", "1", "A", "-1234", "12-", "--", "9", "ABC-DEF", "D-80331", "NL-1012 AB", "00000", "i-10",
    ];

    private static readonly string[] ExternalIds =
    [
        "user-123", "CUST_0001", "a1b2c3", "42", "0042", "ID 42", "Ab Cd\tEf", "customer@example.com", "ÄÖÜ-77",
        "ORDER#2024/11", "{A0B1C2D3-0000-4000-8000-00000000CAFE}", "x", "İd-ΣΣ", "ﬁle-7",
    ];

    private static readonly string[] ValidEmails =
    [
        "john.doe@example.com", "John.Doe+Promo@Example.COM", "a@b.co", "first_last@sub.domain.org",
        "o'reilly@example.ie", "user%tag@example.com", "x-y_z@e-x.am-ple.travel", "UPPER@EXAMPLE.COM",
        "a.b.c.d@example.co.uk", "\u212AELVIN@example.com", "digits123@456.com", "a:b.c@example.com",
        "a=b@example.com", "{brace}@example.com", "user@localhost.localdomain",
    ];

    private static readonly string[] InvalidEmails =
    [
        "plainaddress", "user@", "@example.com", "user@@example.com", "user@example", "user@.com", "user@example..com",
        "user.@example.com", ".user@example.com", "us..er@example.com", "user name@example.com", "user@ex ample.com",
        "mailto:user@example.com", "<user@example.com>", "User <user@example.com>", "user@example.com.", "josé@example.com",
        "test@exámple.com", "用户@例子.广告", "\"quoted\"@example.com", "user@[127.0.0.1]", "user@-example.com",
        "user@exam_ple.com", "user@example.c", "a@b", "user@example.com, other@example.com", "user(at)example.com",
    ];

    private static readonly string[] ValidPhones =
    [
        "+1 (555) 123-4567", "1-555-123-4567", "555.123.4567", "(555) 123 4567", "+44 20 7946 0958",
        "0044 20 7946 0958", "020 7946 0958", "+33 1 23 45 67 89", "+81-3-1234-5678", "+55 11 91234-5678",
        "15551234567", "001 555 123 4567", "+1 555 123 4567 ext. 89", "1-800-FLOWERS", "+49 (0)30 123456",
        "tel:+15551234567", "+1\u2011555\u2011123\u20114567",
    ];

    private static readonly string[] InvalidPhones =
    [
        "+", "()", "---", "abc", "000000", "0", "phone", "n/a", "+0", "12", "٠١٢٣٤٥٦٧٨٩", "١٥٥٥١٢٣٤٥٦٧", "+-+-",
        "none", "O55512345", "#", "++1", "1" + new string('2', 40),
    ];

    private static readonly string[] Blanks = ["", " ", "   ", "\t", "\n", "\r\n", " \t \n", "\u00A0", "\u3000", "\uFEFF", "\u200B"];

    private static readonly string[] MonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>Every generated input, field by field, in a fixed order.</summary>
    public static IReadOnlyList<HashingInput> All { get; } = Generate();

    private static List<HashingInput> Generate()
    {
        var random = new Random(Seed);
        var all = new List<HashingInput>();
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            var seeds = Seeds(field, random);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var seed in seeds)
            {
                if (seen.Count < PerField && seen.Add(seed.Value))
                {
                    all.Add(seed);
                }
            }

            // Mutations of realistic values only; hashes and blanks are covered by their own seeds.
            var mutable = seeds.Where(s => s.Category is not (InputCategory.Hashed or InputCategory.EmptyOrBlank)).ToArray();
            for (int attempts = 0; seen.Count < PerField && attempts < 100_000; attempts++)
            {
                var seed = mutable[random.Next(mutable.Length)];
                var (category, value) = Mutate(seed.Value, random);
                if (random.Next(4) == 0)
                {
                    value = Mutate(value, random).Value; // a second change, now and then
                }

                if (value.Length <= MaxLength && seen.Add(value))
                {
                    all.Add(new HashingInput(field, category, value));
                }
            }
        }

        return all;
    }

    private static List<HashingInput> Seeds(UserDataField field, Random random)
    {
        var seeds = new List<HashingInput>();
        void Add(InputCategory category, IEnumerable<string> values) =>
            seeds.AddRange(values.Select(v => new HashingInput(field, category, v)));

        switch (field)
        {
            case UserDataField.Email:
                Add(InputCategory.Plain, ValidEmails);
                Add(InputCategory.InvalidEmail, InvalidEmails);
                break;
            case UserDataField.Phone:
                Add(InputCategory.Plain, ValidPhones);
                Add(InputCategory.FullWidthDigits, ["＋１ ５５５ １２３ ４５６７", "０２０ ７９４６ ０９５８", "(５５５)１２３-４５６７"]);
                Add(InputCategory.InvalidPhone, InvalidPhones);
                break;
            case UserDataField.FirstName:
            case UserDataField.LastName:
                Add(InputCategory.Plain, FirstNames);
                break;
            case UserDataField.Gender:
                Add(InputCategory.GenderWords, GenderWords);
                break;
            case UserDataField.DateOfBirth:
                Add(InputCategory.DateFormats, Dates(random));
                break;
            case UserDataField.City:
                Add(InputCategory.Plain, Cities);
                break;
            case UserDataField.State:
                Add(InputCategory.StateNames, StateNames);
                break;
            case UserDataField.Zip:
                Add(InputCategory.Plain, Zips);
                Add(InputCategory.FullWidthDigits, ["９４１０５", "９４１０５-１２３４"]);
                break;
            case UserDataField.Country:
                Add(InputCategory.CountryNames, CountryNames);
                break;
            case UserDataField.ExternalId:
                Add(InputCategory.Plain, ExternalIds);
                Add(InputCategory.Plain, Enumerable.Range(0, 4).Select(_ => RandomGuid(random)));
                break;
        }

        Add(InputCategory.Hashed, Hashes(random));
        Add(InputCategory.EmptyOrBlank, Blanks);
        Add(InputCategory.OtherScripts, OtherScripts.Take(8 + (int)field % 3));
        return seeds;
    }

    private static (InputCategory Category, string Value) Mutate(string value, Random random)
    {
        var category = (InputCategory)random.Next((int)InputCategory.FullWidthDigits + 1);
        return category switch
        {
            InputCategory.Case => (category, ChangeCase(value, random)),
            InputCategory.SurroundingWhitespace =>
                (category, Pick(SurroundingSpace, random) + value + (random.Next(2) == 0 ? Pick(SurroundingSpace, random) : "")),
            InputCategory.InnerWhitespace => (category, Insert(value, Pick(InnerSpace, random), random)),
            InputCategory.TabsAndNewlines => (category, Insert(value, Pick(TabsAndNewlines, random), random)),
            InputCategory.AsciiPunctuation => (category, Insert(value, AsciiPunctuation[random.Next(AsciiPunctuation.Length)].ToString(), random)),
            InputCategory.TypographicPunctuation => (category, Insert(value, Pick(TypographicPunctuation, random), random)),
            InputCategory.Accents => (category, Accent(value, random)),
            InputCategory.OtherScripts => (category, random.Next(2) == 0
                ? Insert(value, Pick(OtherScripts, random), random)
                : Pick(OtherScripts, random)),
            InputCategory.FullWidthDigits => (category, FullWidth(value.Any(char.IsAsciiDigit) ? value : value + random.Next(100), random)),
            _ => (InputCategory.Plain, value),
        };
    }

    private static string ChangeCase(string value, Random random) => random.Next(4) switch
    {
        0 => value.ToUpperInvariant(),
        1 => value.ToLowerInvariant(),
        2 => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(value.ToLowerInvariant()),
        _ => string.Concat(value.Select(c => random.Next(2) == 0 ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c))),
    };

    private static string Insert(string value, string text, Random random)
    {
        int at = random.Next(value.Length + 1);
        if (at > 0 && at < value.Length && char.IsLowSurrogate(value[at]))
        {
            at--; // never split a surrogate pair
        }

        return value.Insert(at, text);
    }

    private static string Accent(string value, Random random)
    {
        var builder = new StringBuilder(value.Length + 4);
        bool changed = false;
        foreach (char c in value)
        {
            var match = Array.FindIndex(Accents, a => a.Plain == c);
            if (match >= 0 && random.Next(2) == 0)
            {
                var accented = Accents[match].Accented;
                builder.Append(accented[random.Next(accented.Length)]);
                changed = true;
            }
            else
            {
                builder.Append(c);
            }
        }

        // No letter to accent, or none picked: a combining acute accent (decomposed form) instead.
        return changed ? builder.ToString() : Insert(value, "\u0301", random);
    }

    private static string FullWidth(string value, Random random)
    {
        var all = random.Next(2) == 0;
        return string.Concat(value.Select(c => char.IsAsciiDigit(c) && (all || random.Next(2) == 0) ? (char)('０' + (c - '0')) : c));
    }

    private static IEnumerable<string> Dates(Random random)
    {
        var formats = new[]
        {
            "yyyy-MM-dd", "MM/dd/yyyy", "dd/MM/yyyy", "yyyy/MM/dd", "yyyyMMdd", "MM-dd-yyyy", "dd-MM-yyyy", "dd.MM.yyyy",
            "M/d/yy", "M/d/yyyy", "d/M/yyyy", "yyyy.M.d", "MMM d, yyyy", "MMMM d yyyy", "d MMMM yyyy", "d MMM yyyy",
            "yyyy-MM-ddTHH:mm:ssZ", "MM/dd/yyyy HH:mm", "ddMMyyyy", "MMddyyyy", "yyMMdd", "yyyy-MM", "MM/yyyy", "yyyy",
            "dddd, MMMM d, yyyy", "yyyy年M月d日",
        };
        var nextYear = DateTime.UtcNow.Year + 1;
        var fixedDates = new[]
        {
            new DateTime(1990, 2, 28), new DateTime(2000, 2, 29), new DateTime(1800, 1, 1), new DateTime(1799, 12, 31),
            new DateTime(nextYear, 12, 31), new DateTime(nextYear + 1, 1, 1), new DateTime(1969, 7, 20), new DateTime(2005, 11, 5),
        };
        foreach (var date in fixedDates)
        {
            yield return date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            yield return date.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture);
        }

        for (int i = 0; i < 70; i++)
        {
            var date = new DateTime(1900, 1, 1).AddDays(random.Next(0, 50_000));
            yield return date.ToString(formats[i % formats.Length], CultureInfo.InvariantCulture);
        }

        // Impossible or ambiguous dates and near-misses.
        string[] odd =
        [
            "02/30/1990", "13/13/1990", "00/00/0000", "31/04/1990", "1990-13-01", "1990-00-10", "12/31/99", "1/2/3",
            "2/3/90", "90-02-28", "1990-2-3", "1990 02 28", "28 02 1990", "19900231", "1990", "born 1990", "Feb 1990",
            "02281990", "28021990", "1990/28/02", "12-1990-05", "1990-05-12-07", "١٩٩٠-٠٢-٢٨", "1990\u201302\u201328",
            "1990\u221202\u221228", "2/29/1900", "99999999", "0", "today",
        ];
        foreach (var value in odd)
        {
            yield return value;
        }

        foreach (var month in MonthNames.Take(6))
        {
            yield return $"{month} {random.Next(1, 29)}, {random.Next(1930, 2010)}";
        }
    }

    private static IEnumerable<string> Hashes(Random random)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("seed-" + random.Next())));
        var md5 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes("seed-" + random.Next())));
        var mixed = string.Concat(sha.Select((c, i) => i % 3 == 0 ? char.ToUpperInvariant(c) : c));
        return
        [
            sha, sha.ToUpperInvariant(), mixed, md5, md5.ToUpperInvariant(), " " + sha + "\n", "\t" + md5.ToUpperInvariant() + " ",
            sha + ".AQ", sha.ToUpperInvariant() + ".AQ", md5.ToUpperInvariant() + ".BA", sha + ".Bg", mixed + ".Aw",
            sha + ".AQQCAQMC", sha.ToUpperInvariant() + ".AQQAAQMC", md5 + ".ABCDEFGH", " " + sha.ToUpperInvariant() + ".BQ\t",
            sha + ".XX", sha + ".aq", sha + ".AQQCAQM", sha + ".AQ.AQ", sha[..63], sha + "0", md5[..31], "0x" + sha[2..],
            sha[..10] + "g" + sha[11..], sha[..32] + " " + sha[32..], "\u00A0" + sha + "\u3000",
        ];
    }

    private static string RandomGuid(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        var guid = new Guid(bytes).ToString(random.Next(2) == 0 ? "D" : "B");
        return random.Next(2) == 0 ? guid.ToUpperInvariant() : guid;
    }

    private static string Pick(string[] values, Random random) => values[random.Next(values.Length)];
}
