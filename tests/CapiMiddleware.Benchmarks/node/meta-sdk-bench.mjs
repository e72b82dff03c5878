// The event pipeline through Meta's official Node SDK (facebook-nodejs-business-sdk), on the same 10,000 raw purchases
// as EventPipelineBenchmarks.TenThousandFromRaw: build UserData, CustomData, Content and ServerEvent, normalize and
// hash (ServerEvent.normalize()), JSON.stringify each event. Prints events per second.
//   node tests/CapiMiddleware.Benchmarks/node/meta-sdk-bench.mjs [--iterations N] [--sample N]
import bizSdk from 'facebook-nodejs-business-sdk';

const { UserData, CustomData, Content, ServerEvent } = bizSdk;

// Same rules as RealisticEvents.cs; change one, change the other.
const COUNT = 10_000;
const FIRST_NAMES = ['Mary', 'José', 'Ana-Lucía', 'John', 'Chloé', 'Wei', 'Olga', 'Sam'];
const LAST_NAMES = ['Smith', 'García', "O'Neil", 'Müller', 'Nguyen', 'Kowalski', 'Dubois', 'Lee'];
const CITIES = ['San Francisco', 'New York', 'Austin', 'Saint-Denis', 'Zürich', 'Menlo Park'];
const STATES = ['CA', 'NY', 'TX', 'ca', ' wa ', 'Fl'];
const COUNTRIES = ['US', 'us', 'FR', 'De', 'GB', 'US'];

function raw(i) {
  const lines = [];
  let totalCents = 0;
  for (let line = 0; line < 1 + (i % 3); line++) {
    const priceCents = (5 + ((i + line) % 100)) * 100 + 99;
    lines.push({ sku: `sku-${(i + line) % 500}`, quantity: 1 + line, price: priceCents / 100 });
    totalCents += priceCents * (1 + line);
  }
  return {
    orderId: `order-${i}`,
    url: `https://shop.example.com/checkout?order=${i}`,
    email: ` Customer.${i}@Example.COM `,
    phone: `+1 (650) 555-${String(i % 10_000).padStart(4, '0')}`,
    firstName: FIRST_NAMES[i % FIRST_NAMES.length],
    lastName: LAST_NAMES[i % LAST_NAMES.length],
    city: CITIES[i % CITIES.length],
    state: STATES[i % STATES.length],
    zip: String(94_000 + (i % 1_000)).padStart(5, '0'),
    country: COUNTRIES[i % COUNTRIES.length],
    ip: `203.0.113.${(i % 250) + 1}`,
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
    fbc: `fb.1.1700000000000.IwAR${i}`,
    fbp: `fb.1.1700000000000.${1_000_000_000 + i}`,
    value: totalCents / 100,
    currency: 'usd',
    lines,
  };
}

function write(r, time, inspect) {
  const userData = new UserData()
    .setEmail(r.email)
    .setPhone(r.phone)
    .setFirstName(r.firstName)
    .setLastName(r.lastName)
    .setCity(r.city)
    .setState(r.state)
    .setZip(r.zip)
    .setCountry(r.country)
    .setClientIpAddress(r.ip)
    .setClientUserAgent(r.userAgent)
    .setFbc(r.fbc)
    .setFbp(r.fbp);
  const contents = r.lines.map((l) => new Content().setId(l.sku).setQuantity(l.quantity).setItemPrice(l.price));
  const customData = new CustomData()
    .setValue(r.value)
    .setCurrency(r.currency)
    .setOrderId(r.orderId)
    .setContents(contents);
  const event = new ServerEvent()
    .setEventName('Purchase')
    .setEventTime(time)
    .setEventId(r.orderId)
    .setActionSource('website')
    .setEventSourceUrl(r.url)
    .setUserData(userData)
    .setCustomData(customData);
  const normalized = event.normalize();
  inspect?.(normalized);
  return JSON.stringify(normalized).length;
}

const sampleIndex = process.argv.indexOf('--sample');
if (sampleIndex > 0) {
  // The normalized event of one purchase, to set beside `dotnet run ... -- --sample N`.
  const r = raw(Number(process.argv[sampleIndex + 1]));
  write(r, 1_750_000_000, (normalized) => console.log(JSON.stringify(normalized)));
  process.exit(0);
}

const argIndex = process.argv.indexOf('--iterations');
const iterations = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 10;
const inputs = Array.from({ length: COUNT }, (_, i) => raw(i));
const time = Math.floor(Date.now() / 1000);

let chars = 0;
for (const r of inputs) chars += write(r, time); // warm-up: JIT, and a check that every event goes through

const rates = [];
const cpuPerEvent = [];
for (let n = 0; n < iterations; n++) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const r of inputs) chars += write(r, time);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  rates.push(COUNT / seconds);
  cpuPerEvent.push((used.user + used.system) / COUNT);
}

rates.sort((a, b) => a - b);
cpuPerEvent.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)];
const cpuMedian = cpuPerEvent[Math.floor(cpuPerEvent.length / 2)];
if (process.argv.includes('--json')) {
  // For the C# pipeline harness, which alternates its own rounds with runs of this script.
  console.log(JSON.stringify({ eventsPerSecond: median, microsecondsPerEvent: 1e6 / median, cpuMicrosecondsPerEvent: cpuMedian }));
  process.exit(0);
}

console.log(`facebook-nodejs-business-sdk ${bizSdk.FacebookAdsApi?.VERSION ?? ''} on Node ${process.version}`);
console.log(`${COUNT} events x ${iterations} iterations (after one warm-up): median ${median.toFixed(0)} events/s, ` +
  `min ${rates[0].toFixed(0)}, max ${rates[rates.length - 1].toFixed(0)}; ` +
  `median ${(1e6 / median).toFixed(2)} us/event, ${cpuMedian.toFixed(2)} us of CPU per event (checksum ${chars})`);
