// Starts GOV.UK Frontend's components and re-starts them in content that htmx swaps in.
import { initAll } from '../vendor/govuk-frontend-6.3.0/govuk-frontend.min.js'

initAll()

// After an htmx swap, say what changed. The swapped content names its status message in
// data-portal-status; it is written into #portal-status, a live region that was on the page
// before the swap (screen readers often miss a region that arrives with the new content).
// An error summary in the new content takes the focus, as it does on a full page load.
function afterSwap (root) {
  const summary = root.matches('.govuk-error-summary') ? root : root.querySelector('.govuk-error-summary')
  if (summary) {
    summary.setAttribute('tabindex', '-1')
    summary.focus()
  }
  const source = root.matches('[data-portal-status]') ? root : root.querySelector('[data-portal-status]')
  const region = document.getElementById('portal-status')
  if (!source || !region) return
  const message = source.getAttribute('data-portal-status')
  // Emptied first and filled a moment later, so the same message twice is read twice.
  region.textContent = ''
  window.setTimeout(() => { region.textContent = message }, 150)
  const focus = source.getAttribute('data-portal-focus')
  const field = focus && document.getElementById(focus)
  if (field) field.focus()
}

// htmx fires afterSettle on each node it settled (for an inner swap, the target first): the
// first element of each response is the root of what changed.
const settled = new WeakSet()
document.addEventListener('htmx:afterSettle', (event) => {
  const root = event.target
  const xhr = event.detail && event.detail.xhr
  if (!(root instanceof Element) || (xhr && settled.has(xhr))) return
  if (xhr) settled.add(xhr)
  initAll({ scope: root })
  afterSwap(root)
})
