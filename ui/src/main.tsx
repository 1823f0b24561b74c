// The window's entry: renders the app shell (App.tsx) into the page.
import { render } from "preact";
import { App } from "./App";
import "./styles.css";

render(<App />, document.getElementById("app")!);
