// The course website's own script (Jupyter Book adds every .js file of _static/ to each page).
document.addEventListener("DOMContentLoaded", () => {
  // The download button offers the page's source (the .ipynb of an exercise notebook): save
  // it as a file named as in the repository, instead of opening raw JSON in a new tab.
  for (const link of document.querySelectorAll("a.btn-download-source-button")) {
    link.setAttribute("download", decodeURIComponent(link.pathname.split("/").pop()));
    link.removeAttribute("target");
  }

  // The theme's button that opens or closes a chapter's pages in the navigation has only an
  // icon: give it a name that screen readers can say (axe-core rule summary-name).
  for (const summary of document.querySelectorAll(".bd-sidenav details > summary")) {
    if (summary.textContent.trim() || summary.hasAttribute("aria-label")) continue;
    const title = summary.closest("li")?.querySelector(":scope > a")?.textContent.trim();
    summary.setAttribute("aria-label", title ? `Pages of ${title}` : "Pages of this chapter");
  }
});
