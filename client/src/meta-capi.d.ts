// Types for CapiMiddleware's browser snippet (window.metaCapi, or the default export of
// dist/meta-capi.mjs) and for the JSON data block the server renders into the page.

/** Meta's standard event names; these go to the Pixel as `fbq('track', ...)`. */
export type MetaStandardEventName =
  | 'PageView'
  | 'ViewContent'
  | 'Search'
  | 'AddToCart'
  | 'AddToWishlist'
  | 'InitiateCheckout'
  | 'AddPaymentInfo'
  | 'Purchase'
  | 'Lead'
  | 'CompleteRegistration'
  | 'Contact'
  | 'CustomizeProduct'
  | 'Donate'
  | 'FindLocation'
  | 'Schedule'
  | 'StartTrial'
  | 'SubmitApplication'
  | 'Subscribe';

/** One item of `contents` in the event data. */
export interface MetaContent {
  id: string;
  quantity?: number;
  item_price?: number;
  title?: string;
  description?: string;
  brand?: string;
  category?: string;
  delivery_category?: 'in_store' | 'curbside' | 'home_delivery';
  [key: string]: unknown;
}

/** Event parameters (custom_data): Meta's standard keys plus any custom ones. */
export interface MetaEventData {
  value?: number;
  currency?: string;
  order_id?: string;
  content_ids?: string[];
  content_type?: 'product' | 'product_group' | (string & {});
  contents?: MetaContent[];
  num_items?: number;
  content_name?: string;
  content_category?: string;
  search_string?: string;
  status?: string | boolean;
  item_number?: string;
  delivery_category?: 'in_store' | 'curbside' | 'home_delivery';
  net_revenue?: number;
  predicted_ltv?: number;
  [key: string]: unknown;
}

/**
 * Arguments of `fbq('dataProcessingOptions', options, country, state)`: `['LDU']` with Meta's country
 * (1 = US, 0 = geolocate) and state (e.g. 1000 = California, 0 = geolocate) codes, or `[]` alone.
 */
export interface MetaCapiDataProcessingOptions {
  options: ['LDU'] | [];
  country?: number;
  state?: number;
}

/** One server event, fired as `fbq(method, name, data, { eventID: eventId })`. */
export interface MetaCapiBlockEvent {
  method: 'track' | 'trackCustom';
  name: string;
  /** The same ID the server sends as `event_id`, so Meta deduplicates the two copies. */
  eventId: string;
  /** Possibly empty. */
  data: MetaEventData;
  /**
   * When present, the server sent this event to these pixels only, and the snippet fires it with
   * `fbq('trackSingle' | 'trackSingleCustom', pixelId, name, data, { eventID })` for each.
   */
  pixelIds?: string[];
  /**
   * This event's own data processing options: set with `fbq('dataProcessingOptions', ...)` just before it,
   * and the page's (or `[]`) restored just after. Absent: the page's apply.
   */
  dataProcessingOptions?: MetaCapiDataProcessingOptions;
}

/**
 * The JSON inside `<script type="application/json" id="meta-capi-data">`, rendered once per page.
 * Missing or unparsable: treated as `{ events: [] }`, no Pixel loading, subdomainIndex 1, host-only cookies.
 */
export interface MetaCapiDataBlock {
  /** Shape version. */
  v: 1;
  /** The first of `pixelIds`, for older snippets; null when no pixel is configured. */
  pixelId: string | null;
  /** The pixels of this page's host (numeric IDs). */
  pixelIds?: string[];
  /**
   * When true and `window.fbq` does not exist yet, the snippet installs the Pixel queue stub,
   * calls `fbq('init', id)` for each of `pixelIds` and `fbq('track', 'PageView')`, and loads fbevents.js.
   */
  loadPixel: boolean;
  /** Domain attribute of the _fbc/_fbp cookies the snippet writes; null for host-only cookies. */
  cookieDomain: string | null;
  /** The `i` in `fb.{i}.{creationTimeMs}.{payload}`. */
  subdomainIndex: number;
  /**
   * Whether the server found tracking consent for this request (absent: true). When false, the snippet calls
   * `fbq('consent', 'revoke')` first (before `init` when it loads the Pixel), writes no cookies and fires nothing
   * until `metaCapi.consent(true)`; the server sent no events for the request. Absent on a `shared` page, where the
   * server's answer to `collect` tells.
   */
  consent?: boolean;
  /** True for a crawler: no Pixel, no cookies, no events, and `metaCapi.consent()` is ignored. */
  crawler?: boolean;
  /** The site's Limited Data Use, applied with `fbq('dataProcessingOptions', ...)` before `init`. */
  dataProcessingOptions?: MetaCapiDataProcessingOptions;
  events: MetaCapiBlockEvent[];
  /**
   * Where to report, once per page view (3 s after start, or on `pagehide` if sooner), whether Meta's Pixel library
   * loaded: `navigator.sendBeacon(beacon, '{"v":1,"blocked":bool,"ids":[...]}')` with the event IDs this page handed
   * the Pixel. Absent or null: no report.
   */
  beacon?: string | null;
  /**
   * Where to ask, with consent and at most once a day, for the browser's IP address as the site sees it (an absolute
   * URL on a dual-stack or IPv6-only host, or a path): the answer, plain text, is kept in the `_fbi` cookie, which the
   * server prefers to the request's own address. Absent or null: nothing is asked.
   */
  ipEndpoint?: string | null;
  /**
   * True on a page a cache shares between visitors: it carries no consent and no event IDs. The snippet mints an ID
   * for each of `declared`, posts `{"v":1,"events":[{"id","token"}]}` to `collect`, and fires the Pixel with the IDs
   * the server took (`{"consent":bool,"accepted":[ids]}`), whose answer also says whether this visitor may be tracked.
   */
  shared?: boolean;
  declared?: MetaCapiDeclaredEvent[];
  collect?: string;
}

/** A conversion a shared page declares: what the Pixel is handed, and the server's sealed copy of it. */
export interface MetaCapiDeclaredEvent {
  method: 'track' | 'trackCustom';
  name: string;
  data: Record<string, unknown>;
  token: string;
  pixelIds?: string[];
  dataProcessingOptions?: MetaCapiDataProcessingOptions;
}

/** Headers that carry a browser-made event ID to the server (fetch/XHR). */
export type MetaCapiEventHeaders = { 'X-Meta-Event-Id': string };

export interface MetaCapi {
  /**
   * Fires an event through the Pixel with a new event ID (`track` for standard names,
   * `trackCustom` otherwise; waits up to about 10 s for `window.fbq`) and returns the ID,
   * to be sent to the server with {@link MetaCapi.eventHeaders}. Without consent, or for a crawler, fires nothing
   * but still returns an ID. Never throws.
   */
  track(name: MetaStandardEventName | (string & {}), data?: MetaEventData): string;
  /** `{ 'X-Meta-Event-Id': eventId }` (an empty object for an empty or non-string ID). */
  eventHeaders(eventId: string): MetaCapiEventHeaders;
  /** A new event ID: 128 random bits as 32 lowercase hex characters. */
  newEventId(): string;
  /**
   * Tells the snippet the visitor's tracking choice, from a cookie banner or consent platform: `true` grants, anything
   * else revokes. On a change it calls `fbq('consent', 'grant' | 'revoke')`; granting writes the `_fbc`/`_fbp`
   * cookies the server held back (from `?fbclid=` in the current URL), revoking deletes them. Nothing is replayed:
   * events withheld before consent stay unsent, and `track()` fires again from now on. Tell the server too (for
   * ASP.NET Core's CookiePolicy, `ITrackingConsentFeature.GrantConsent()`), so its events follow.
   */
  consent(granted: boolean): void;
  /** The snippet's version. */
  readonly version: string;
}

declare global {
  interface Window {
    metaCapi: MetaCapi;
  }
}

declare const metaCapi: MetaCapi;
export default metaCapi;
