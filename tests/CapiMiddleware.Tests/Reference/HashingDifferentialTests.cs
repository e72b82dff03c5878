using System.Text;
using CapiMiddleware.Events;
using CapiMiddleware.Hashing;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// Issue 4, user data: for thousands of generated inputs (<see cref="HashingInputs"/>), what the library puts in the
/// event it sends equals what Meta's Parameter Builder makes of the same input: the identical hash where the reference
/// returns one (its appendix stripped), no field where it returns nothing, and the event is never dropped. The library
/// side runs through <see cref="GraphEventWriter"/>, the one place that builds what Meta receives.
/// </summary>
[Collection(DifferentialSuite.Name)]
public sealed class HashingDifferentialTests(ParameterBuilder reference, ITestOutputHelper output) : IClassFixture<ParameterBuilder>
{
    private const int ReportedDisagreements = 25;
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void The_inputs_cover_every_field_and_every_category_of_issue_4()
    {
        var inputs = HashingInputs.All;
        Assert.True(inputs.Count >= 2_000, $"{inputs.Count} inputs");
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            Assert.True(inputs.Count(i => i.Field == field) >= 200, field.ToString());
        }

        foreach (var category in Enum.GetValues<InputCategory>())
        {
            var count = inputs.Count(i => i.Category == category);
            output.WriteLine($"{category,-24} {count,5}");
            Assert.True(count > 0, $"no {category} input");
        }

        output.WriteLine($"{"all",-24} {inputs.Count,5}");
    }

    [Fact]
    public async Task Every_input_is_sent_as_the_reference_hashes_it_or_dropped_where_it_drops_it()
    {
        var disagreements = new List<string>();
        int total = 0, agreed = 0;
        foreach (var group in HashingInputs.All.GroupBy(i => i.Field))
        {
            var field = group.Key;
            var inputs = group.ToArray();
            var expected = await reference.NormalizeAndHashAsync(field, inputs.Select(i => i.Value).ToArray());
            int fieldAgreed = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                var sent = Send(field, inputs[i].Value);
                var want = expected[i].Hash is { } hash ? new[] { hash } : null;
                if (sent.AsSpan().SequenceEqual(want))
                {
                    fieldAgreed++;
                    continue;
                }

                disagreements.Add(
                    $"{field.WireName()} [{inputs[i].Category}] {Show(inputs[i].Value)}: reference {expected[i].Hash ?? "drops it"} " +
                    $"(normalized {Show(expected[i].Normalized)}), library {(sent is null ? "drops it" : string.Join(",", sent))} " +
                    $"(normalized {Show(UserDataNormalizer.Normalize(field, inputs[i].Value))})");
            }

            output.WriteLine($"{field.WireName(),-12} {fieldAgreed,5} of {inputs.Length,5} agreed");
            total += inputs.Length;
            agreed += fieldAgreed;
        }

        output.WriteLine($"{"all fields",-12} {agreed,5} of {total,5} agreed");
        Assert.True(
            disagreements.Count == 0,
            $"{disagreements.Count} of {total} inputs differ from Meta's Parameter Builder; the first ones:\n"
            + string.Join("\n", disagreements.Take(ReportedDisagreements)));
    }

    [Fact]
    public async Task Several_values_for_one_field_are_each_hashed_as_the_reference_does()
    {
        var random = new Random(HashingInputs.Seed);
        int groups = 0;
        foreach (var fieldInputs in HashingInputs.All.GroupBy(i => i.Field))
        {
            var field = fieldInputs.Key;
            var values = fieldInputs.Select(i => i.Value).ToArray();
            var hashes = (await reference.NormalizeAndHashAsync(field, values)).Select(r => r.Hash).ToArray();

            // The cases the issue names: two valid values, an invalid one (dropped), and a value that is the same as
            // the first after normalization (sent once); then random mixes of two to five values.
            var twice = Enumerable.Range(0, values.Length).Where(i => hashes[i] is not null)
                .GroupBy(i => hashes[i]).First(g => g.Count() >= 2).ToArray();
            int first = twice[0], same = twice[1];
            int second = Array.FindIndex(hashes, h => h is not null && h != hashes[first]);
            int invalid = Array.FindIndex(hashes, h => h is null);
            Assert.True(first >= 0 && second >= 0 && invalid >= 0 && same >= 0, $"{field}: no inputs for every case");

            var cases = new List<int[]> { new[] { first, second }, new[] { first, invalid, second, same } };
            for (int i = 0; i < 20; i++)
            {
                cases.Add(Enumerable.Range(0, random.Next(2, 6)).Select(_ => random.Next(values.Length)).ToArray());
            }

            foreach (var indexes in cases)
            {
                var expected = indexes.Select(i => hashes[i]).OfType<string>().Distinct().ToArray();
                var sent = Send(field, indexes.Select(i => values[i]).ToArray());
                Assert.True(
                    expected.Length == 0 ? sent is null : sent is not null && sent.SequenceEqual(expected),
                    $"{field.WireName()}: [{string.Join(", ", indexes.Select(i => Show(values[i])))}] sent " +
                    $"[{string.Join(", ", sent ?? [])}], the reference's hashes are [{string.Join(", ", expected)}]");
                groups++;
            }
        }

        output.WriteLine($"{groups} groups of several values, each value hashed as the reference does");
    }

    [Fact]
    public void The_Add_methods_fill_the_field_they_name()
    {
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            var user = new UserData();
            Add(user, field, "x");
            foreach (var other in Enum.GetValues<UserDataField>())
            {
                Assert.Equal(other == field, user.More(other) is [ "x" ]);
                Assert.Null(user.Get(other));
            }
        }
    }

    /// <summary>The field as the library sends it: the first value in the property, the rest through the Add methods.</summary>
    private static string[]? Send(UserDataField field, params string[] values)
    {
        var user = new UserData { ClientUserAgent = "Mozilla/5.0" };
        Set(user, field, values[0]);
        foreach (var value in values.Skip(1))
        {
            Add(user, field, value);
        }

        var conversion = new ConversionEvent("Lead") { EventSourceUrl = "https://shop.example.com/", UserData = user };
        var sent = GraphEventWriter.TryCreate(conversion, "id", Now, out var problem);
        Assert.True(sent is not null, $"the event was dropped: {problem}");
        return field switch
        {
            UserDataField.Email => sent.UserData.Email,
            UserDataField.Phone => sent.UserData.Phone,
            UserDataField.FirstName => sent.UserData.FirstName,
            UserDataField.LastName => sent.UserData.LastName,
            UserDataField.Gender => sent.UserData.Gender,
            UserDataField.DateOfBirth => sent.UserData.DateOfBirth,
            UserDataField.City => sent.UserData.City,
            UserDataField.State => sent.UserData.State,
            UserDataField.Zip => sent.UserData.Zip,
            UserDataField.Country => sent.UserData.Country,
            _ => sent.UserData.ExternalId,
        };
    }

    private static void Set(UserData user, UserDataField field, string value)
    {
        switch (field)
        {
            case UserDataField.Email: user.Email = value; break;
            case UserDataField.Phone: user.Phone = value; break;
            case UserDataField.FirstName: user.FirstName = value; break;
            case UserDataField.LastName: user.LastName = value; break;
            case UserDataField.Gender: user.Gender = value; break;
            case UserDataField.DateOfBirth: user.DateOfBirth = value; break;
            case UserDataField.City: user.City = value; break;
            case UserDataField.State: user.State = value; break;
            case UserDataField.Zip: user.Zip = value; break;
            case UserDataField.Country: user.Country = value; break;
            default: user.ExternalId = value; break;
        }
    }

    private static UserData Add(UserData user, UserDataField field, string value) => field switch
    {
        UserDataField.Email => user.AddEmail(value),
        UserDataField.Phone => user.AddPhone(value),
        UserDataField.FirstName => user.AddFirstName(value),
        UserDataField.LastName => user.AddLastName(value),
        UserDataField.Gender => user.AddGender(value),
        UserDataField.DateOfBirth => user.AddDateOfBirth(value),
        UserDataField.City => user.AddCity(value),
        UserDataField.State => user.AddState(value),
        UserDataField.Zip => user.AddZip(value),
        UserDataField.Country => user.AddCountry(value),
        _ => user.AddExternalId(value),
    };

    /// <summary>A value readable in a report: quoted, with invisible and non-ASCII characters escaped.</summary>
    private static string Show(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var builder = new StringBuilder("\"");
        foreach (char c in value)
        {
            builder.Append(c is >= ' ' and < '\x7F' ? c.ToString() : $"\\u{(int)c:X4}");
        }

        return builder.Append('"').ToString();
    }
}
