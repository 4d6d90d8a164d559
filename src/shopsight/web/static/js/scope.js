// The viewer's store / region scope as the page shell names it (data-scope on <body>): null when the viewer
// sees everything, else the country codes their figures may be sliced to (none for a store-only scope).
export function scopeCountries() {
  const scope = document.body.dataset.scope;
  if (scope === undefined) return null;
  return scope ? scope.split(",") : [];
}

export const STORES_ONLY = "Your scope names stores only: these figures add up orders, which record no store.";
