// Stylesheets imported by console modules are bundled by esbuild into /assets/build/console.css.
declare module '*.css';
