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
