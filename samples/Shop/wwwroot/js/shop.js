// The product page's "Add to cart": the Pixel gets AddToCart with a fresh event ID, and the server is told the same ID
// in the X-Meta-Event-Id header, so Meta keeps one of the two copies.
document.addEventListener('click', function (e) {
  var button = e.target.closest && e.target.closest('[data-add-to-cart]');
  if (!button) return;
  var id = button.getAttribute('data-product-id');
  var price = Number(button.getAttribute('data-price'));
  var headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (window.metaCapi) {
    var eventId = window.metaCapi.track('AddToCart', {
      content_ids: [id], content_type: 'product', value: price, currency: 'USD'
    });
    Object.assign(headers, window.metaCapi.eventHeaders(eventId));
  }
  var status = document.getElementById('cart-status');
  fetch('/cart', { method: 'POST', headers: headers, body: new URLSearchParams({ productId: id }) })
    .then(function (r) { return r.json(); })
    .then(function (body) { status.textContent = 'Added to cart.'; status.setAttribute('data-event-id', body.eventId); })
    .catch(function () { status.textContent = 'Could not add to cart.'; });
});

// The cookie banner: the choice goes to the server (ASP.NET Core's consent cookie) and to the snippet, which keeps
// the Pixel in step (fbq('consent', 'grant' | 'revoke')) and, on "Accept", writes the _fbc/_fbp cookies it held back.
document.addEventListener('submit', function (e) {
  var form = e.target;
  if (!form || form.id !== 'consent-banner') return;
  e.preventDefault();
  var accepted = !!(e.submitter && e.submitter.value === 'accept');
  // The form's own fields, its antiforgery token among them: /consent refuses a post without it (another site's page).
  var body = new URLSearchParams(new FormData(form));
  body.set('choice', accepted ? 'accept' : 'decline');
  fetch('/consent', {
    method: 'POST',
    headers: { 'Accept': 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body
  })
    .then(function (r) {
      if (!r.ok) throw new Error('consent not saved');
      if (window.metaCapi) window.metaCapi.consent(accepted);
      form.remove();
    })
    .catch(function () { form.querySelector('p').textContent = 'Could not save your choice; please try again.'; });
});
