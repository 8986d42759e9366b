import { Route, Routes } from "react-router";
import { CustomerList } from "./CustomerList";
import { Customer360 } from "./Customer360";
import "./customers.css";

/** /customers (list and search) and /customers/:customerId (the customer 360). */
export default function CustomersPage() {
  return (
    <Routes>
      <Route index element={<CustomerList />} />
      <Route path=":customerId" element={<Customer360 />} />
    </Routes>
  );
}
